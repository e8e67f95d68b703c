//! The checks: one [`Control`] per upstream check ID, its level, its versioned
//! definitions, and which baseline check a restricted one overrides.

use super::version::{Level, Version};

/// One upstream check (`policy/check_*.go`), named by its check ID.
///
/// The declaration order is upstream's evaluation order: baseline checks sorted by ID,
/// then restricted checks sorted by ID (Go's byte-wise string order), which is also the
/// order of failures in a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Control {
    // Baseline.
    AppArmorProfile,
    CapabilitiesBaseline,
    HostNamespaces,
    HostPathVolumes,
    HostPorts,
    HostProbesAndHostLifecycle,
    Privileged,
    ProcMount,
    SeLinuxOptions,
    SeccompProfileBaseline,
    Sysctls,
    WindowsHostProcess,
    // Restricted.
    AllowPrivilegeEscalation,
    CapabilitiesRestricted,
    ProcMountRestricted,
    RestrictedVolumes,
    RunAsNonRoot,
    RunAsUser,
    SeccompProfileRestricted,
}

impl Control {
    pub const ALL: [Control; 19] = [
        Control::AppArmorProfile,
        Control::CapabilitiesBaseline,
        Control::HostNamespaces,
        Control::HostPathVolumes,
        Control::HostPorts,
        Control::HostProbesAndHostLifecycle,
        Control::Privileged,
        Control::ProcMount,
        Control::SeLinuxOptions,
        Control::SeccompProfileBaseline,
        Control::Sysctls,
        Control::WindowsHostProcess,
        Control::AllowPrivilegeEscalation,
        Control::CapabilitiesRestricted,
        Control::ProcMountRestricted,
        Control::RestrictedVolumes,
        Control::RunAsNonRoot,
        Control::RunAsUser,
        Control::SeccompProfileRestricted,
    ];

    /// Upstream's check ID (`CheckResult`s are keyed by it; Kyverno maps control names
    /// to it).
    pub const fn id(self) -> &'static str {
        match self {
            Control::AppArmorProfile => "appArmorProfile",
            Control::CapabilitiesBaseline => "capabilities_baseline",
            Control::HostNamespaces => "hostNamespaces",
            Control::HostPathVolumes => "hostPathVolumes",
            Control::HostPorts => "hostPorts",
            Control::HostProbesAndHostLifecycle => "hostProbesAndHostLifecycle",
            Control::Privileged => "privileged",
            Control::ProcMount => "procMount",
            Control::SeLinuxOptions => "seLinuxOptions",
            Control::SeccompProfileBaseline => "seccompProfile_baseline",
            Control::Sysctls => "sysctls",
            Control::WindowsHostProcess => "windowsHostProcess",
            Control::AllowPrivilegeEscalation => "allowPrivilegeEscalation",
            Control::CapabilitiesRestricted => "capabilities_restricted",
            Control::ProcMountRestricted => "procMount_restricted",
            Control::RestrictedVolumes => "restrictedVolumes",
            Control::RunAsNonRoot => "runAsNonRoot",
            Control::RunAsUser => "runAsUser",
            Control::SeccompProfileRestricted => "seccompProfile_restricted",
        }
    }

    /// The control whose upstream check ID is `id`.
    pub fn from_id(id: &str) -> Option<Control> {
        Control::ALL.into_iter().find(|c| c.id() == id)
    }

    /// The control name of the Pod Security Standards page, which is what Kyverno's
    /// `podSecurity.exclude[].controlName` uses (Kyverno's `PSS_control_name_to_ids`).
    /// Several checks share a name (`Capabilities`, `Seccomp`, `/proc Mount Type`).
    pub const fn control_name(self) -> &'static str {
        match self {
            Control::AppArmorProfile => "AppArmor",
            Control::CapabilitiesBaseline | Control::CapabilitiesRestricted => "Capabilities",
            Control::HostNamespaces => "Host Namespaces",
            Control::HostPathVolumes => "HostPath Volumes",
            Control::HostPorts => "Host Ports",
            Control::HostProbesAndHostLifecycle => "Host Probes / Lifecycle Hooks",
            Control::Privileged => "Privileged Containers",
            Control::ProcMount | Control::ProcMountRestricted => "/proc Mount Type",
            Control::SeLinuxOptions => "SELinux",
            Control::SeccompProfileBaseline | Control::SeccompProfileRestricted => "Seccomp",
            Control::Sysctls => "Sysctls",
            Control::WindowsHostProcess => "HostProcess",
            Control::AllowPrivilegeEscalation => "Privilege Escalation",
            Control::RestrictedVolumes => "Volume Types",
            Control::RunAsNonRoot => "Running as Non-root",
            Control::RunAsUser => "Running as Non-root user",
        }
    }

    /// The level whose checks include this one (`Restricted` includes `Baseline`).
    pub const fn level(self) -> Level {
        match self {
            Control::AllowPrivilegeEscalation
            | Control::CapabilitiesRestricted
            | Control::ProcMountRestricted
            | Control::RestrictedVolumes
            | Control::RunAsNonRoot
            | Control::RunAsUser
            | Control::SeccompProfileRestricted => Level::Restricted,
            _ => Level::Baseline,
        }
    }

    /// The baseline check this restricted check replaces at the restricted level, in every
    /// version where it is defined (upstream's `OverrideCheckIDs`).
    pub const fn overrides(self) -> Option<Control> {
        match self {
            Control::RestrictedVolumes => Some(Control::HostPathVolumes),
            Control::CapabilitiesRestricted => Some(Control::CapabilitiesBaseline),
            Control::SeccompProfileRestricted => Some(Control::SeccompProfileBaseline),
            Control::ProcMountRestricted => Some(Control::ProcMount),
            _ => None,
        }
    }

    /// The minimum versions of the check's definitions, oldest first.
    pub const fn definitions(self) -> &'static [Version] {
        const fn v(minor: u32) -> Version {
            Version::v1(minor)
        }
        const V1_0: &[Version] = &[v(0)];
        const HOST_PROBES: &[Version] = &[v(34)];
        const PROC_MOUNT: &[Version] = &[v(0), v(35)];
        const SE_LINUX: &[Version] = &[v(0), v(31)];
        const SECCOMP_BASELINE: &[Version] = &[v(0), v(19)];
        const SYSCTLS: &[Version] = &[v(0), v(27), v(29), v(32), v(37)];
        const ALLOW_PRIVILEGE_ESCALATION: &[Version] = &[v(8), v(25)];
        const CAPABILITIES_RESTRICTED: &[Version] = &[v(22), v(25)];
        const PROC_MOUNT_RESTRICTED: &[Version] = &[v(35)];
        const RUN_AS_NON_ROOT: &[Version] = &[v(0), v(35)];
        const RUN_AS_USER: &[Version] = &[v(23), v(35)];
        const SECCOMP_RESTRICTED: &[Version] = &[v(19), v(25)];
        match self {
            Control::HostProbesAndHostLifecycle => HOST_PROBES,
            Control::ProcMount => PROC_MOUNT,
            Control::SeLinuxOptions => SE_LINUX,
            Control::SeccompProfileBaseline => SECCOMP_BASELINE,
            Control::Sysctls => SYSCTLS,
            Control::AllowPrivilegeEscalation => ALLOW_PRIVILEGE_ESCALATION,
            Control::CapabilitiesRestricted => CAPABILITIES_RESTRICTED,
            Control::ProcMountRestricted => PROC_MOUNT_RESTRICTED,
            Control::RunAsNonRoot => RUN_AS_NON_ROOT,
            Control::RunAsUser => RUN_AS_USER,
            Control::SeccompProfileRestricted => SECCOMP_RESTRICTED,
            Control::AppArmorProfile
            | Control::CapabilitiesBaseline
            | Control::HostNamespaces
            | Control::HostPathVolumes
            | Control::HostPorts
            | Control::Privileged
            | Control::WindowsHostProcess
            | Control::RestrictedVolumes => V1_0,
        }
    }

    /// The definition that runs at `version`: the minimum version of the newest
    /// definition at or below it (after clamping, see [`Version::resolve`]); `None` when
    /// the check does not exist yet at that version.
    pub fn definition(self, version: Version) -> Option<Version> {
        let version = version.resolve();
        self.definitions().iter().rev().find(|d| **d <= version).copied()
    }
}

/// A set of controls, iterated in upstream's evaluation order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ControlSet(u32);

impl ControlSet {
    pub const EMPTY: ControlSet = ControlSet(0);

    const fn bit(c: Control) -> u32 {
        1 << (c as u32)
    }

    pub fn contains(self, c: Control) -> bool {
        self.0 & Self::bit(c) != 0
    }

    pub fn insert(&mut self, c: Control) {
        self.0 |= Self::bit(c);
    }

    pub fn remove(&mut self, c: Control) {
        self.0 &= !Self::bit(c);
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Control> {
        Control::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl FromIterator<Control> for ControlSet {
    fn from_iter<I: IntoIterator<Item = Control>>(iter: I) -> Self {
        let mut set = ControlSet::EMPTY;
        for c in iter {
            set.insert(c);
        }
        set
    }
}

/// The checks `level` runs at `version`, as upstream's registry assembles them: nothing
/// for `privileged`; for `baseline`, every baseline check defined at the version; for
/// `restricted`, those plus every restricted check defined at the version, minus the
/// baseline checks that an active restricted check overrides.
pub fn controls(level: Level, version: Version) -> ControlSet {
    let mut set = ControlSet::EMPTY;
    if level == Level::Privileged {
        return set;
    }
    for c in Control::ALL {
        if c.level() <= level && c.definition(version).is_some() {
            set.insert(c);
        }
    }
    for c in set.iter() {
        if let Some(overridden) = c.overrides() {
            set.remove(overridden);
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_order_is_upstream_order() {
        let ids: Vec<&str> = Control::ALL.iter().map(|c| c.id()).collect();
        let (baseline, restricted) = ids.split_at(12);
        let mut sorted = baseline.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, baseline);
        let mut sorted = restricted.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, restricted);
        assert!(Control::ALL.windows(2).all(|w| w[0] < w[1]));
        for c in Control::ALL {
            assert_eq!(Control::from_id(c.id()), Some(c));
        }
    }

    #[test]
    fn newest_defined_is_the_newest_minimum_version() {
        let newest = Control::ALL.iter().flat_map(|c| c.definitions().iter().copied()).max();
        assert_eq!(newest, Some(Version::NEWEST_DEFINED));
        for c in Control::ALL {
            assert!(c.definitions().windows(2).all(|w| w[0] < w[1]), "{c:?}");
        }
    }

    #[test]
    fn a_version_selects_the_newest_definition_at_or_below_it() {
        let sysctls = |v| Control::Sysctls.definition(Version::v1(v));
        assert_eq!(sysctls(0), Some(Version::v1(0)));
        assert_eq!(sysctls(26), Some(Version::v1(0)));
        assert_eq!(sysctls(27), Some(Version::v1(27)));
        assert_eq!(sysctls(31), Some(Version::v1(29)));
        assert_eq!(sysctls(36), Some(Version::v1(32)));
        assert_eq!(sysctls(37), Some(Version::v1(37)));
        assert_eq!(Control::Sysctls.definition(Version::LATEST), Some(Version::v1(37)));
        assert_eq!(Control::AllowPrivilegeEscalation.definition(Version::v1(7)), None);
        assert_eq!(Control::AllowPrivilegeEscalation.definition(Version::v1(8)), Some(Version::v1(8)));
        assert_eq!(Control::HostProbesAndHostLifecycle.definition(Version::v1(33)), None);
        assert_eq!(Control::HostProbesAndHostLifecycle.definition(Version::LATEST), Some(Version::v1(34)));
        assert_eq!(Control::RunAsUser.definition(Version::v1(500)), Some(Version::v1(35)));
    }

    #[test]
    fn level_sets_follow_the_registry() {
        assert!(controls(Level::Privileged, Version::LATEST).is_empty());
        let baseline = controls(Level::Baseline, Version::v1(0));
        assert_eq!(baseline.len(), 11);
        assert!(!baseline.contains(Control::HostProbesAndHostLifecycle));
        assert_eq!(controls(Level::Baseline, Version::LATEST).len(), 12);

        // v1.0: restricted volumes replaces hostPath volumes; the annotation seccomp check stays.
        let r = controls(Level::Restricted, Version::v1(0));
        assert!(!r.contains(Control::HostPathVolumes) && r.contains(Control::RestrictedVolumes));
        assert!(r.contains(Control::SeccompProfileBaseline) && !r.contains(Control::AllowPrivilegeEscalation));
        // v1.19 and v1.22: the restricted seccomp and capabilities checks take over.
        let r = controls(Level::Restricted, Version::v1(22));
        assert!(!r.contains(Control::SeccompProfileBaseline) && r.contains(Control::SeccompProfileRestricted));
        assert!(!r.contains(Control::CapabilitiesBaseline) && r.contains(Control::CapabilitiesRestricted));
        assert!(r.contains(Control::ProcMount));
        // v1.35: procMount_restricted replaces the relaxed baseline procMount.
        let r = controls(Level::Restricted, Version::LATEST);
        assert!(!r.contains(Control::ProcMount) && r.contains(Control::ProcMountRestricted));
        assert_eq!(r.len(), 12 - 4 + 7);
        let order: Vec<Control> = r.iter().collect();
        assert_eq!(order.first(), Some(&Control::AppArmorProfile));
        assert_eq!(order.last(), Some(&Control::SeccompProfileRestricted));
    }
}
