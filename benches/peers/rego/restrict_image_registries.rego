# best-practices/restrict-image-registries: every image of spec.containers,
# spec.initContainers and spec.ephemeralContainers is "eu.foo.io/*" or "bar.io/*".
package kyvm.peers.restrict_image_registries

import data.kyvm.peers.common
import rego.v1

deny contains "spec.containers is required" if {
	common.pod
	not common.pod.spec.containers
}

deny contains sprintf("unknown image registry in container %v", [c.name]) if {
	some c in common.all_containers
	not allowed(c.image)
}

allowed(image) if startswith(image, "eu.foo.io/")

allowed(image) if startswith(image, "bar.io/")
