# best-practices/require-labels: metadata.labels["app.kubernetes.io/name"] is a
# non-empty value.
package kyvm.peers.require_labels

import data.kyvm.peers.common
import rego.v1

deny contains "The label `app.kubernetes.io/name` is required." if {
	common.pod
	not has_name
}

has_name if common.pod.metadata.labels["app.kubernetes.io/name"] != ""
