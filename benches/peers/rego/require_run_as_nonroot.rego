# pod-security/restricted/require-run-as-nonroot: either spec.securityContext.runAsNonRoot
# is true and no container sets runAsNonRoot to anything but true, or every container
# sets securityContext.runAsNonRoot to true.
package kyvm.peers.require_run_as_nonroot

import data.kyvm.peers.common
import rego.v1

pod_level if {
	common.pod.spec.securityContext.runAsNonRoot == true
	common.pod.spec.containers
	every c in common.all_containers {
		not has_other_value(c)
	}
}

has_other_value(c) if c.securityContext.runAsNonRoot != true

container_level if {
	common.pod.spec.containers
	every c in common.all_containers {
		c.securityContext.runAsNonRoot == true
	}
}

deny contains "Running as root is not allowed." if {
	common.pod
	not pod_level
	not container_level
}
