# pod-security/baseline/disallow-host-namespaces: spec.hostPID, spec.hostIPC and
# spec.hostNetwork must be unset or false.
package kyvm.peers.disallow_host_namespaces

import data.kyvm.peers.common
import rego.v1

deny contains sprintf("%v is set", [field]) if {
	some field in ["hostPID", "hostIPC", "hostNetwork"]
	v := common.pod.spec[field]
	v != false
}

deny contains "spec is required" if {
	common.pod
	not common.pod.spec
}
