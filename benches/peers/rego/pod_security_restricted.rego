# pod-security/subrule/restricted/restricted-exclude-capabilities: the restricted profile
# of the Pod Security Standards, version latest, as Kyverno's `podSecurity` runs it (the
# checks of k8s.io/pod-security-admission: every baseline control, the restricted ones
# on top; Kyverno keeps the baseline checks that a restricted one supersedes, so both
# run), with the Capabilities control exempt for containers whose image matches
# `ghcr.io/kyverno/test-nginx*` or `redis*`.
#
# Optional fields are tested in place (`sc.seccompProfile != null`), never bound from a
# helper function that may be undefined (`p := f(sc)`): regorus 0.14.1's RVM carries on
# with such a body where the interpreter (and OPA) stop.
package kyvm.peers.pod_security_restricted

import data.kyvm.peers.common
import rego.v1

spec := common.pod.spec

# The pod-level securityContext (empty when unset).
pod_sc := object.get(spec, "securityContext", {})

# Linux-only restricted controls do not apply to Windows pods (policy v1.25+).
windows if spec.os.name == "windows"

# A pod in a user namespace is not root on the host (policy v1.35+): runAsNonRoot and
# runAsUser do not apply.
user_namespace if spec.hostUsers == false

# The Capabilities exclusion: the images are prefix patterns (a trailing `*`).
exempt_image_prefixes := ["ghcr.io/kyverno/test-nginx", "redis"]

capabilities_exempt(c) if {
	some prefix in exempt_image_prefixes
	startswith(c.image, prefix)
}

# ---------------------------------------------------------------------------------------
# Baseline.

# HostProcess: windowsOptions.hostProcess must be unset or false.
deny contains "pod sets securityContext.windowsOptions.hostProcess" if pod_sc.windowsOptions.hostProcess == true

deny contains sprintf("container %v sets securityContext.windowsOptions.hostProcess", [c.name]) if {
	some c in common.all_containers
	c.securityContext.windowsOptions.hostProcess == true
}

# Host Namespaces: hostNetwork, hostPID, hostIPC must be unset or false.
deny contains sprintf("%v=true", [field]) if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	spec[field] == true
}

# Privileged Containers: securityContext.privileged must be unset or false.
deny contains sprintf("container %v is privileged", [c.name]) if {
	some c in common.all_containers
	c.securityContext.privileged == true
}

# Capabilities (baseline): only the default capabilities may be added.
baseline_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

deny contains sprintf("container %v adds %v", [c.name, cap]) if {
	some c in common.all_containers
	not capabilities_exempt(c)
	some cap in c.securityContext.capabilities.add
	not baseline_capabilities[cap]
}

# HostPath Volumes: spec.volumes[*].hostPath must be unset.
deny contains sprintf("volume %v is a hostPath", [v.name]) if {
	some v in spec.volumes
	v.hostPath != null
}

# Host Ports: ports[*].hostPort must be unset or 0.
deny contains sprintf("container %v uses hostPort %v", [c.name, port]) if {
	some c in common.all_containers
	some p in c.ports
	port := p.hostPort
	not port in {0, null}
}

# AppArmor: a profile type must be RuntimeDefault or Localhost; the beta annotation must
# be empty, runtime/default or localhost/*.
apparmor_bad(sc) if {
	sc.appArmorProfile != null
	not sc.appArmorProfile.type in {"RuntimeDefault", "Localhost"}
}

deny contains "pod sets a forbidden AppArmor profile" if apparmor_bad(pod_sc)

deny contains sprintf("container %v sets a forbidden AppArmor profile", [c.name]) if {
	some c in common.all_containers
	apparmor_bad(c.securityContext)
}

deny contains sprintf("annotation %v=%v", [key, value]) if {
	some key, value in common.pod.metadata.annotations
	startswith(key, "container.apparmor.security.beta.kubernetes.io/")
	not apparmor_annotation_allowed(value)
}

apparmor_annotation_allowed(value) if value in {"", null, "runtime/default"}

apparmor_annotation_allowed(value) if startswith(value, "localhost/")

# SELinux: seLinuxOptions.type must be unset or one of the container types; user and role
# must be unset or empty.
selinux_types := {"", null, "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

selinux_bad(sc) if {
	sc.seLinuxOptions != null
	not selinux_allowed(sc.seLinuxOptions)
}

selinux_allowed(options) if {
	object.get(options, "type", "") in selinux_types
	object.get(options, "user", "") in {"", null}
	object.get(options, "role", "") in {"", null}
}

deny contains "pod sets forbidden seLinuxOptions" if selinux_bad(pod_sc)

deny contains sprintf("container %v sets forbidden seLinuxOptions", [c.name]) if {
	some c in common.all_containers
	selinux_bad(c.securityContext)
}

# /proc Mount Type: procMount must be unset or Default (the restricted control: even in a
# user namespace).
deny contains sprintf("container %v sets procMount %v", [c.name, mount]) if {
	some c in common.all_containers
	mount := c.securityContext.procMount
	not mount in {"Default", null}
}

# Seccomp (baseline): a profile type, where set, must be RuntimeDefault or Localhost.
seccomp_types := {"RuntimeDefault", "Localhost"}

seccomp_bad(sc) if {
	sc.seccompProfile != null
	not sc.seccompProfile.type in seccomp_types
}

deny contains "pod sets a forbidden seccomp profile" if seccomp_bad(pod_sc)

deny contains sprintf("container %v sets a forbidden seccomp profile", [c.name]) if {
	some c in common.all_containers
	seccomp_bad(c.securityContext)
}

# Sysctls: only the safe sysctls.
safe_sysctls := {
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
	"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat",
}

deny contains sprintf("forbidden sysctl %v", [name]) if {
	some sysctl in pod_sc.sysctls
	name := object.get(sysctl, "name", "")
	not safe_sysctls[name]
}

# Host Probes / Lifecycle Hooks: a probe's or handler's host must be unset or empty.
deny contains sprintf("container %v uses probe or lifecycle host %v", [c.name, host]) if {
	some c in common.all_containers
	some handler in [
		object.get(c, "livenessProbe", null), object.get(c, "readinessProbe", null),
		object.get(c, "startupProbe", null), object.get(c, ["lifecycle", "postStart"], null),
		object.get(c, ["lifecycle", "preStop"], null),
	]
	some action in ["httpGet", "tcpSocket"]
	host := handler[action].host
	not host in {"", null}
}

# ---------------------------------------------------------------------------------------
# Restricted.

# Volume Types: only configMap, csi, downwardAPI, emptyDir, ephemeral, image,
# persistentVolumeClaim, projected and secret volumes (a volume without a source is an
# emptyDir once the API server has defaulted it).
allowed_volume_sources := {
	"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
	"persistentVolumeClaim", "projected", "secret",
}

restricted_volume_sources := {
	"hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi",
	"glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile",
	"vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume",
	"scaleIO", "storageos",
}

deny contains sprintf("volume %v uses restricted volume type %v", [v.name, source]) if {
	some v in spec.volumes
	some source in restricted_volume_sources
	v[source] != null
	not has_allowed_source(v)
}

has_allowed_source(v) if {
	some source in allowed_volume_sources
	v[source] != null
}

# Privilege Escalation: allowPrivilegeEscalation must be false.
deny contains sprintf("container %v must set allowPrivilegeEscalation=false", [c.name]) if {
	not windows
	some c in common.all_containers
	not c.securityContext.allowPrivilegeEscalation == false
}

# Running as Non-root: runAsNonRoot must be true, at the pod level or on every container;
# nothing may set it to false.
deny contains "pod sets runAsNonRoot=false" if {
	not user_namespace
	pod_sc.runAsNonRoot == false
}

deny contains sprintf("container %v must set runAsNonRoot=true", [c.name]) if {
	not user_namespace
	some c in common.all_containers
	not container_runs_as_non_root(c)
}

container_runs_as_non_root(c) if c.securityContext.runAsNonRoot == true

container_runs_as_non_root(c) if {
	object.get(c, ["securityContext", "runAsNonRoot"], null) == null
	pod_sc.runAsNonRoot == true
}

# Running as Non-root user: runAsUser must not be 0.
deny contains "pod sets runAsUser=0" if {
	not user_namespace
	pod_sc.runAsUser == 0
}

deny contains sprintf("container %v sets runAsUser=0", [c.name]) if {
	not user_namespace
	some c in common.all_containers
	c.securityContext.runAsUser == 0
}

# Seccomp (restricted): RuntimeDefault or Localhost, set at the pod level or on every
# container.
deny contains sprintf("container %v must set a seccomp profile", [c.name]) if {
	not windows
	not has_seccomp_profile(pod_sc)
	some c in common.all_containers
	not has_seccomp_profile(c.securityContext)
}

has_seccomp_profile(sc) if sc.seccompProfile != null

# Capabilities (restricted): drop ALL, add nothing but NET_BIND_SERVICE.
deny contains sprintf("container %v must drop ALL capabilities", [c.name]) if {
	not windows
	some c in common.all_containers
	not capabilities_exempt(c)
	not "ALL" in object.get(c, ["securityContext", "capabilities", "drop"], [])
}

deny contains sprintf("container %v must not add %v", [c.name, cap]) if {
	not windows
	some c in common.all_containers
	not capabilities_exempt(c)
	some cap in c.securityContext.capabilities.add
	cap != "NET_BIND_SERVICE"
}
