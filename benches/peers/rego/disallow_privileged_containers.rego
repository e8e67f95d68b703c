# pod-security/baseline/disallow-privileged-containers: spec.containers[*],
# spec.initContainers[*] and spec.ephemeralContainers[*] securityContext.privileged must
# be unset or false; spec.containers must exist.
package kyvm.peers.disallow_privileged_containers

import data.kyvm.peers.common
import rego.v1

deny contains "spec.containers is required" if {
	common.pod
	not common.pod.spec.containers
}

deny contains msg if {
	some c in common.all_containers
	c.securityContext.privileged != false
	msg := sprintf("container %v is privileged", [c.name])
}
