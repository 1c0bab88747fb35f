{{/* Chart name, overridable. */}}
{{- define "oomtest.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object name. Names are cut to 63 characters (DNS labels) less room for the
longest suffix the chart appends ("-worker", "-redis").
*/}}
{{- define "oomtest.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 56 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "oomtest.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object the chart creates. */}}
{{- define "oomtest.labels" -}}
helm.sh/chart: {{ include "oomtest.chart" . }}
{{ include "oomtest.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "oomtest.selectorLabels" -}}
app.kubernetes.io/name: {{ include "oomtest.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels of one component: call with (dict "ctx" $ "component" "bot"). */}}
{{- define "oomtest.componentSelectorLabels" -}}
{{ include "oomtest.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "oomtest.componentLabels" -}}
{{ include "oomtest.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "oomtest.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "oomtest.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "oomtest.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Namespaces drills may use, as a list: drills.namespaces, or the release namespace. */}}
{{- define "oomtest.drillNamespaces" -}}
{{- if .Values.drills.namespaces }}
{{- toJson (uniq .Values.drills.namespaces) }}
{{- else }}
{{- toJson (list .Release.Namespace) }}
{{- end }}
{{- end }}

{{- define "oomtest.defaultNamespace" -}}
{{- $namespaces := include "oomtest.drillNamespaces" . | fromJsonArray }}
{{- $default := default (first $namespaces) .Values.drills.defaultNamespace }}
{{- if not (has $default $namespaces) }}
{{- fail (printf "drills.defaultNamespace %q is not one of drills.namespaces %v" $default $namespaces) }}
{{- end }}
{{- $default }}
{{- end }}

{{- define "oomtest.slackSecretName" -}}
{{- default (include "oomtest.fullname" .) .Values.slack.existingSecret }}
{{- end }}

{{- define "oomtest.externalRedis" -}}
{{- if or .Values.redis.external.url .Values.redis.external.existingSecret }}true{{ end }}
{{- end }}

{{- define "oomtest.redisHost" -}}
{{- printf "%s-redis" (include "oomtest.fullname" .) }}
{{- end }}

{{- define "oomtest.redisSecretName" -}}
{{- if .Values.redis.external.existingSecret }}
{{- .Values.redis.external.existingSecret }}
{{- else if and (not (include "oomtest.externalRedis" .)) .Values.redis.bundled.auth.existingSecret }}
{{- .Values.redis.bundled.auth.existingSecret }}
{{- else }}
{{- printf "%s-redis" (include "oomtest.fullname" .) }}
{{- end }}
{{- end }}

{{- define "oomtest.redisPasswordKey" -}}
{{- if .Values.redis.bundled.auth.existingSecret }}
{{- .Values.redis.bundled.auth.existingSecretKey }}
{{- else }}redis-password{{ end }}
{{- end }}

{{/*
REDIS_URL for bot and worker. With the bundled Redis and a password, the URL is assembled by
the kubelet from REDIS_PASSWORD ($(VAR) expansion), so the password lives only in a Secret.
*/}}
{{- define "oomtest.redisEnv" -}}
{{- if include "oomtest.externalRedis" . }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "oomtest.redisSecretName" . }}
      key: {{ ternary .Values.redis.external.existingSecretKey "redis-url" (ne .Values.redis.external.existingSecret "") }}
{{- else if .Values.redis.bundled.auth.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "oomtest.redisSecretName" . }}
      key: {{ include "oomtest.redisPasswordKey" . }}
- name: REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379" (include "oomtest.redisHost" .) | quote }}
{{- else }}
- name: REDIS_URL
  value: {{ printf "redis://%s:6379" (include "oomtest.redisHost" .) | quote }}
{{- end }}
{{- end }}

{{/* Slack credentials: the app token only in Socket Mode, which is what selects the mode. */}}
{{- define "oomtest.slackEnv" -}}
{{- $secret := include "oomtest.slackSecretName" . }}
- name: SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.slack.secretKeys.botToken }}
- name: SLACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.slack.secretKeys.signingSecret }}
      {{- if eq .Values.slack.mode "socket" }}
      optional: true
      {{- end }}
{{- if eq .Values.slack.mode "socket" }}
- name: SLACK_APP_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.slack.secretKeys.appToken }}
{{- end }}
{{- end }}

{{/* The `restricted` Pod Security profile, for every pod the chart runs itself. */}}
{{- define "oomtest.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "oomtest.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop:
    - ALL
{{- end }}

{{- define "oomtest.httpProbes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 2
  # Up to a minute to start: connecting to Redis and Slack may take a few retries.
  failureThreshold: 30
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end }}

{{/*
Pod annotations that change whenever the settings or the chart-managed credentials change, so
`helm upgrade` rolls the pods (a Secret named by existingSecret is not watched: restart the
Deployments by hand after rotating it).
*/}}
{{- define "oomtest.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ print (include (print .Template.BasePath "/secret.yaml") .) (include (print .Template.BasePath "/redis-secret.yaml") .) | sha256sum }}
{{- end }}
