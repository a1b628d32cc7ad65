{{/*
Contradictions that values.schema.json cannot express. Each `fail` names the
value to fix. Included once from deployment.yaml, so every render checks them.
*/}}
{{- define "hookguard.validate" -}}
{{- $v := .Values }}

{{- /* The database connection string has to come from a Secret. */}}
{{- if not $v.database.existingSecret }}
{{- fail "database.existingSecret is required: name the Secret that holds the SOCI connection string (key database.key)" }}
{{- end }}

{{- /* The server never runs open: a webhook secret Secret is required. */}}
{{- if not $v.webhookSecrets.existingSecret }}
{{- fail "webhookSecrets.existingSecret is required: name the Secret that holds the webhook signing secrets" }}
{{- end }}

{{- /* TLS. */}}
{{- if and $v.tls.enabled (not $v.tls.existingSecret) }}
{{- fail "tls.enabled is true but tls.existingSecret is empty: name the Secret with the certificate, key and CA" }}
{{- end }}
{{- if and $v.tls.clientAuth.enabled (not $v.tls.enabled) }}
{{- fail "tls.clientAuth.enabled (mTLS) needs tls.enabled" }}
{{- end }}
{{- if and $v.tls.clientAuth.allowedClients (not $v.tls.clientAuth.enabled) }}
{{- fail "tls.clientAuth.allowedClients is set but tls.clientAuth.enabled is false: the allowlist would never be checked" }}
{{- end }}

{{- /* The front proxy (threat row 25). */}}
{{- if and $v.frontProxy.enabled $v.tls.clientAuth.enabled }}
{{- fail "frontProxy.enabled and tls.clientAuth.enabled cannot both be on: with the front proxy, TLS ends in nginx, so hookguard-server never sees the client certificate that --client_ca and tls.clientAuth.allowedClients check. Either set frontProxy.enabled=false (mTLS straight to hookguard-server; then restrict callers with networkPolicy.enabled, since threat row 25's size bound is gone), or set tls.clientAuth.enabled=false and admit the web tier with networkPolicy.enabled" }}
{{- end }}
{{- if $v.frontProxy.enabled }}
{{- if lt (int $v.server.port) 1024 }}
{{- fail (printf "server.port (%d) is below 1024: the front proxy's nginx runs as UID 10001 without capabilities and cannot bind it; use a port of 1024 or above (service.port can stay what clients dial)" (int $v.server.port)) }}
{{- end }}
{{- if eq (int $v.frontProxy.upstreamPort) (int $v.server.port) }}
{{- fail "frontProxy.upstreamPort must differ from server.port: nginx listens on server.port, hookguard-server on 127.0.0.1:frontProxy.upstreamPort" }}
{{- end }}
{{- if and $v.metrics.enabled (eq (int $v.frontProxy.upstreamPort) (int $v.metrics.port)) }}
{{- fail "frontProxy.upstreamPort must differ from metrics.port" }}
{{- end }}
{{- end }}

{{- /* Ports. */}}
{{- if and $v.metrics.enabled (eq (int $v.metrics.port) (int $v.server.port)) }}
{{- fail "metrics.port must differ from server.port" }}
{{- end }}
{{- if and $v.serviceMonitor.enabled (not $v.metrics.enabled) }}
{{- fail "serviceMonitor.enabled needs metrics.enabled: there is nothing to scrape" }}
{{- end }}

{{- /* Autoscaling and disruption budget. */}}
{{- if $v.autoscaling.enabled }}
{{- if gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas) }}
{{- fail (printf "autoscaling.minReplicas (%d) is greater than autoscaling.maxReplicas (%d)" (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) }}
{{- end }}
{{- if and (not $v.autoscaling.targetCPUUtilizationPercentage) (not $v.autoscaling.targetMemoryUtilizationPercentage) }}
{{- fail "autoscaling.enabled needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" }}
{{- end }}
{{- end }}
{{- if $v.podDisruptionBudget.enabled }}
{{- $hasMin := not (kindIs "invalid" $v.podDisruptionBudget.minAvailable) }}
{{- $hasMax := not (kindIs "invalid" $v.podDisruptionBudget.maxUnavailable) }}
{{- if and $hasMin $hasMax }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both (null the other)" }}
{{- end }}
{{- if and $hasMin (not (kindIs "string" $v.podDisruptionBudget.minAvailable)) }}
{{- $floor := ternary $v.autoscaling.minReplicas $v.replicaCount $v.autoscaling.enabled }}
{{- if ge (int $v.podDisruptionBudget.minAvailable) (int $floor) }}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be below the replica count (%d), or no node could ever be drained" (int $v.podDisruptionBudget.minAvailable) (int $floor)) }}
{{- end }}
{{- end }}
{{- end }}

{{- /* Graceful shutdown: preStop sleep, then SIGTERM and the drain, all inside the grace period. */}}
{{- $needed := add $v.lifecycle.preStopSleepSeconds $v.server.drainSeconds }}
{{- if le (int $v.lifecycle.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "lifecycle.terminationGracePeriodSeconds (%d) must exceed lifecycle.preStopSleepSeconds + server.drainSeconds (%d), or pods are killed mid-drain" (int $v.lifecycle.terminationGracePeriodSeconds) (int $needed)) }}
{{- end }}

{{- /* NetworkPolicy. */}}
{{- if $v.networkPolicy.enabled }}
{{- if and (not $v.networkPolicy.webTier.podSelector) (not $v.networkPolicy.webTier.namespaceSelector) }}
{{- fail "networkPolicy.enabled but networkPolicy.webTier.podSelector and .namespaceSelector are both empty: no caller could reach the service (or, read loosely, all could). Name the web tier's pods" }}
{{- end }}
{{- if and $v.networkPolicy.egress.enabled (not $v.networkPolicy.egress.databaseTo) }}
{{- fail "networkPolicy.egress.enabled but networkPolicy.egress.databaseTo is empty: the server could not reach its database" }}
{{- end }}
{{- end }}
{{- if and $v.networkPolicy.egress.enabled (not $v.networkPolicy.enabled) }}
{{- fail "networkPolicy.egress.enabled needs networkPolicy.enabled" }}
{{- end }}

{{- /* Webhook secrets and the config file. */}}
{{- $envNames := list }}
{{- range $name, $_ := $v.webhookSecrets.env }}{{ $envNames = append $envNames $name }}{{ end }}
{{- range $v.extraEnv }}{{ $envNames = append $envNames .name }}{{ end }}
{{- $dirs := list }}
{{- if $v.webhookSecrets.mount }}{{ $dirs = append $dirs $v.webhookSecrets.mountPath }}{{ end }}
{{- if $v.tls.enabled }}{{ $dirs = append $dirs $v.tls.mountPath }}{{ end }}
{{- range $v.extraVolumeMounts }}{{ $dirs = append $dirs .mountPath }}{{ end }}
{{- if not $v.config }}
{{- if not (has "VAPI_WEBHOOK_SECRET" $envNames) }}
{{- fail "config is null (no config file: default profile) so the secret comes from VAPI_WEBHOOK_SECRET: set webhookSecrets.env.VAPI_WEBHOOK_SECRET to a key of webhookSecrets.existingSecret" }}
{{- end }}
{{- else }}
{{- if not $v.config.profiles }}
{{- fail "config.profiles is empty: give at least one profile, or set config: null for the default profile" }}
{{- end }}
{{- $profileNames := list }}
{{- range $p := $v.config.profiles }}
{{- $profileNames = append $profileNames $p.name }}
{{- if not $p.secrets }}
{{- fail (printf "config profile %q has no secrets: the server would refuse to start" (toString $p.name)) }}
{{- end }}
{{- range $s := $p.secrets }}
{{- range $k, $_ := $s }}
{{- if not (has $k (list "key_id" "keyId" "env" "file")) }}
{{- fail (printf "config profile %q: secret entry key %q is not allowed; secrets are never inline, use `env` or `file` (and `key_id`)" (toString $p.name) $k) }}
{{- end }}
{{- end }}
{{- if eq (len (pick $s "env" "file")) 1 | not }}
{{- fail (printf "config profile %q: each secret needs exactly one of `env` or `file`" (toString $p.name)) }}
{{- end }}
{{- if $s.env }}
{{- if not (has $s.env $envNames) }}
{{- fail (printf "config profile %q reads env %q, which neither webhookSecrets.env nor extraEnv defines" (toString $p.name) $s.env) }}
{{- end }}
{{- end }}
{{- if $s.file }}
{{- $under := false }}
{{- range $d := $dirs }}{{ if hasPrefix (printf "%s/" (trimSuffix "/" $d)) $s.file }}{{ $under = true }}{{ end }}{{ end }}
{{- if not $under }}
{{- fail (printf "config profile %q reads file %q, which is under no mounted directory (webhookSecrets.mountPath with webhookSecrets.mount, tls.mountPath, extraVolumeMounts)" (toString $p.name) $s.file) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- $default := $v.config.default_profile | default $v.config.defaultProfile }}
{{- if and $default (not (has $default $profileNames)) }}
{{- fail (printf "config.default_profile %q names no profile in config.profiles" $default) }}
{{- end }}
{{- end }}
{{- end }}
