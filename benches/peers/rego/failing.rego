# The entry point of the `peers` bench: the names of the policies whose `deny` set is
# not empty (one query per review for the interpreter and for the RVM).
package kyvm.peers

import rego.v1

failing contains "disallow-privileged-containers" if count(data.kyvm.peers.disallow_privileged_containers.deny) > 0

failing contains "require-run-as-nonroot" if count(data.kyvm.peers.require_run_as_nonroot.deny) > 0

failing contains "disallow-host-namespaces" if count(data.kyvm.peers.disallow_host_namespaces.deny) > 0

failing contains "restrict-image-registries" if count(data.kyvm.peers.restrict_image_registries.deny) > 0

failing contains "require-labels" if count(data.kyvm.peers.require_labels.deny) > 0

failing contains "podsecurity-subrule-restricted-capabilities" if count(data.kyvm.peers.pod_security_restricted.deny) > 0
