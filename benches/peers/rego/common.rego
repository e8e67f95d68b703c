# Shared by the six rule sets: the Pod spec and metadata a review carries, with
# Kyverno's autogen semantics for pod controllers (the pod template at spec.template;
# for a CronJob at spec.jobTemplate.spec.template). Kinds outside these do not match,
# as the Kyverno rules match Pods only.
package kyvm.peers.common

import rego.v1

controllers := {"DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController"}

pod := input.request.object if input.request.kind.kind == "Pod"

pod := input.request.object.spec.template if controllers[input.request.kind.kind]

pod := input.request.object.spec.jobTemplate.spec.template if input.request.kind.kind == "CronJob"

# Every container of the three lists, with its list's name.
all_containers contains c if some c in pod.spec.containers

all_containers contains c if some c in pod.spec.initContainers

all_containers contains c if some c in pod.spec.ephemeralContainers
