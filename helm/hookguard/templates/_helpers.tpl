{{/*
Expand the name of the chart.
*/}}
{{- define "hookguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "hookguard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The headless Service's name: the full name (cut so that the whole stays a
63-character DNS label) and "-headless".
*/}}
{{- define "hookguard.headlessName" -}}
{{- printf "%s-headless" (include "hookguard.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "hookguard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "hookguard.labels" -}}
helm.sh/chart: {{ include "hookguard.chart" . }}
{{ include "hookguard.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "hookguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hookguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "hookguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hookguard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: the digest pins it when set, else the tag (default appVersion).
*/}}
{{- define "hookguard.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Whether a config file is rendered (config is a non-empty object).
*/}}
{{- define "hookguard.hasConfig" -}}
{{- if .Values.config }}true{{ end }}
{{- end }}

{{/*
Path of the rendered config file inside the container.
*/}}
{{- define "hookguard.configPath" -}}
/etc/hookguard/config.json
{{- end }}

{{/*
The name the probes and the test Pod verify in the server certificate.
*/}}
{{- define "hookguard.tlsServerName" -}}
{{- .Values.tls.serverName | default (printf "%s.%s.svc" (include "hookguard.fullname" .) .Release.Namespace) }}
{{- end }}

{{/*
`hookguard health` TLS flags for the probes and the test Pod (empty without TLS).
With mTLS the server's own certificate is presented as the client certificate.
*/}}
{{- define "hookguard.healthTlsArgs" -}}
{{- if .Values.tls.enabled }}
- --tls_ca={{ .Values.tls.mountPath }}/{{ .Values.tls.caKey }}
- --tls_server_name={{ include "hookguard.tlsServerName" . }}
{{- if .Values.tls.clientAuth.enabled }}
- --tls_cert={{ .Values.tls.mountPath }}/{{ .Values.tls.certKey }}
- --tls_key={{ .Values.tls.mountPath }}/{{ .Values.tls.keyKey }}
{{- end }}
{{- end }}
{{- end }}

{{/*
One probe's handler. With the front proxy, an exec of `hookguard health`
straight to hookguard-server on its loopback port (plaintext: TLS ends in
nginx), which the kubelet's own probes, dialling the pod IP, cannot reach.
Without it, a native gRPC probe, or, with TLS (which native gRPC probes
cannot speak), an exec of `hookguard health` over TLS.
Arguments: (dict "root" $ "service" "<health service name>").
*/}}
{{- define "hookguard.probeHandler" -}}
{{- $root := .root }}
{{- if $root.Values.frontProxy.enabled }}
exec:
  command:
    - hookguard
    - health
    - --target=127.0.0.1:{{ $root.Values.frontProxy.upstreamPort }}
    - --service={{ .service }}
{{- else if $root.Values.tls.enabled }}
exec:
  command:
    - hookguard
    - health
    - --target=127.0.0.1:{{ $root.Values.server.port }}
    - --service={{ .service }}
    {{- with include "hookguard.healthTlsArgs" $root | trim }}
    {{- . | nindent 4 }}
    {{- end }}
{{- else }}
grpc:
  port: {{ $root.Values.server.port }}
  service: {{ .service | quote }}
{{- end }}
{{- end }}

{{/*
Selector labels of the server pods only: the test Pod and the audit Job share
name/instance but carry another component, so the Service, the PDB, the
NetworkPolicy and the spread constraints never count them.
*/}}
{{- define "hookguard.serverSelectorLabels" -}}
{{ include "hookguard.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/*
Where the front proxy's nginx.conf (templates/front-proxy-configmap.yaml) is
mounted in the nginx sidecar.
*/}}
{{- define "hookguard.frontProxyConfigDir" -}}
/etc/hookguard-front-proxy
{{- end }}
