{{/* Name of every object: "<release>-webhook" unless fullnameOverride is set. */}}
{{- define "vouch.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-webhook" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the webhook's pods. */}}
{{- define "vouch.selectorLabels" -}}
app.kubernetes.io/name: vouch
app.kubernetes.io/component: webhook
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "vouch.labels" -}}
{{ include "vouch.selectorLabels" . }}
app.kubernetes.io/part-of: vouch
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The container image: repository@digest, else repository:tag (tag defaults to appVersion). */}}
{{- define "vouch.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* Secret holding the serving certificate. */}}
{{- define "vouch.tlsSecret" -}}
{{- .Values.tls.secretName | default (printf "%s-tls" (include "vouch.fullname" .)) -}}
{{- end -}}
