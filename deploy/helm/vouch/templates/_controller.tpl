{{/* Name of the controller's objects: "<release>-controller". */}}
{{- define "vouch.controllerName" -}}
{{- printf "%s-controller" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the controller's pods. */}}
{{- define "vouch.controllerSelectorLabels" -}}
app.kubernetes.io/name: vouch
app.kubernetes.io/component: controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every controller object. */}}
{{- define "vouch.controllerLabels" -}}
{{ include "vouch.controllerSelectorLabels" . }}
app.kubernetes.io/part-of: vouch
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
