{{/*
The pod template shared by the three workloads. Called with (dict "root" $ "tier" "ingest|sampler|embedded"
"cfg" <tier values>). The container runs the image's entrypoint (tusk-collector) with `run <pipeline file>`,
selecting the tier's pipeline; listeners, probes and the preStop/grace period follow the values.
*/}}
{{- define "tusk.podTemplate" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $cfg := .cfg }}
{{- $serves := ne .tier "sampler" -}}
metadata:
  labels:
    {{- include "tusk.selectorLabels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .tier }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "tusk.pipeline" $root | sha256sum }}
    {{- if $v.metrics.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $cfg.ports.admin | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "tusk.serviceAccountName" $root }}
  automountServiceAccountToken: false
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  terminationGracePeriodSeconds: {{ include "tusk.gracePeriod" $root }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  containers:
    - name: tusk-collector
      image: {{ include "tusk.image" $root | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      args:
        - run
        - /etc/tusk-collector/config/pipeline.tsk
        {{- if eq .tier "ingest" }}
        - --pipeline
        - ingest
        {{- else if eq .tier "sampler" }}
        - --pipeline
        - sample
        {{- end }}
        {{- if $v.watchConfig }}
        - --watch
        {{- end }}
      env:
        - name: TUSK_ADMIN_ENDPOINT
          value: "{{ $v.listenAddress }}:{{ $cfg.ports.admin }}"
        {{- if $serves }}
        - name: OTLP_GRPC_ENDPOINT
          value: "{{ $v.listenAddress }}:{{ $cfg.ports.otlpGrpc }}"
        - name: OTLP_HTTP_ENDPOINT
          value: "{{ $v.listenAddress }}:{{ $cfg.ports.otlpHttp }}"
        {{- end }}
        {{- if and (eq $v.mode "cluster") $v.kafka.sasl.enabled }}
        - name: KAFKA_SASL_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ $v.kafka.sasl.existingSecret }}
              key: {{ $v.kafka.sasl.passwordKey }}
        {{- end }}
        {{- if and (eq .tier "sampler") $v.redis.passwordSecret }}
        - name: REDIS_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ $v.redis.passwordSecret }}
              key: {{ $v.redis.passwordKey }}
        - name: REDIS_URL
          value: {{ regexReplaceAll "^(rediss?://)" $v.redis.url "${1}:$(REDIS_PASSWORD)@" | quote }}
        {{- end }}
        {{- with $cfg.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        {{- if $serves }}
        - name: otlp-grpc
          containerPort: {{ $cfg.ports.otlpGrpc }}
          protocol: TCP
        - name: otlp-http
          containerPort: {{ $cfg.ports.otlpHttp }}
          protocol: TCP
        {{- end }}
        - name: admin
          containerPort: {{ $cfg.ports.admin }}
          protocol: TCP
      livenessProbe:
        httpGet: { path: /healthz, port: admin }
        {{- toYaml $v.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet: { path: /readyz, port: admin }
        {{- toYaml $v.probes.readiness | nindent 8 }}
      lifecycle:
        preStop:
          exec:
            command: ["sleep", "{{ $v.preStopSleepSeconds }}"]
      resources:
        {{- toYaml $cfg.resources | nindent 8 }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/tusk-collector/config
          readOnly: true
        - name: tmp
          mountPath: /tmp
        {{- if eq $v.mode "embedded" }}
        - name: state
          mountPath: /var/lib/tusk-collector
        {{- end }}
        {{- if and (eq $v.mode "cluster") $v.kafka.tls.enabled }}
        - name: kafka-tls
          mountPath: /etc/tusk-collector/kafka-tls
          readOnly: true
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "tusk.fullname" $root }}
    - name: tmp
      emptyDir: { sizeLimit: 64Mi }
    {{- if eq $v.mode "embedded" }}
    - name: state
      {{- if $v.embedded.wal.persistence.existingClaim }}
      persistentVolumeClaim:
        claimName: {{ $v.embedded.wal.persistence.existingClaim }}
      {{- else }}
      emptyDir: { sizeLimit: {{ $v.embedded.wal.persistence.sizeLimit }} }
      {{- end }}
    {{- end }}
    {{- if and (eq $v.mode "cluster") $v.kafka.tls.enabled }}
    - name: kafka-tls
      secret:
        secretName: {{ $v.kafka.tls.existingSecret }}
    {{- end }}
  {{- with $cfg.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $cfg.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if $cfg.affinity }}
  affinity:
    {{- toYaml $cfg.affinity | nindent 4 }}
  {{- else if and (eq .tier "sampler") (ne $cfg.antiAffinity "none") }}
  affinity:
    podAntiAffinity:
      {{- $match := dict "app.kubernetes.io/name" (include "tusk.name" $root) }}
      {{- $_ := set $match "app.kubernetes.io/instance" $root.Release.Name }}
      {{- $_ = set $match "app.kubernetes.io/component" "sampler" }}
      {{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" $match) }}
      {{- if eq $cfg.antiAffinity "hard" }}
      requiredDuringSchedulingIgnoredDuringExecution:
        {{- toYaml (list $term) | nindent 8 }}
      {{- else }}
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 100
          podAffinityTerm:
            {{- toYaml $term | nindent 12 }}
      {{- end }}
  {{- end }}
{{- end }}
