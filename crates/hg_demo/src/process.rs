//! Process-creation (4688) simulation per host, and the interactive logons it implies.
//!
//! Each host boots at the start of the week; long-lived services then spawn short-lived work, and
//! on workstations the primary user logs on each workday (winlogon -> userinit -> explorer) and
//! starts applications. Activities are executed in order of their start time, and a process id is
//! only handed out when every earlier holder of it has exited, so the parent of every process is the
//! latest earlier creation of its `ProcessId` on the same host (ids are reused, as on Windows).

use std::cell::RefCell;

use crate::common::{hex_id, weekday, DemoRng, DAY, HOUR, MIN, MS, SEC};
use crate::logons::LogonRow;
use crate::network::SessionWindow;
use crate::org::{HostRole, ADMIN_ACCOUNT, ADMIN_RID, HOSTS, NETBIOS_DOMAIN, USERS};
use crate::story;
use crate::DemoError;

/// Token elevation: full token (services, SYSTEM).
pub const ELEV_FULL: u16 = 1936;
/// Token elevation: elevated (an administrator's "Run as administrator").
pub const ELEV_ELEVATED: u16 = 1937;
/// Token elevation: limited (ordinary user processes).
pub const ELEV_LIMITED: u16 = 1938;

/// Subject code: the host's machine account (SYSTEM, logon id 0x3e7).
pub const SUBJ_SYSTEM: u8 = 0;
/// Subject code: LOCAL SERVICE (0x3e5).
pub const SUBJ_LOCAL_SERVICE: u8 = 1;
/// Subject code: NETWORK SERVICE (0x3e4).
pub const SUBJ_NETWORK_SERVICE: u8 = 2;
/// Subject code: the administrator's admin account.
pub const SUBJ_ADMIN: u8 = 3;
/// Subject code of user `i` of [`USERS`] is `SUBJ_USER0 + i`.
pub const SUBJ_USER0: u8 = 4;

/// The process id of the System process, the declared root of every process tree.
pub const SYSTEM_PID: u32 = 4;

/// One 4688 event before it becomes an Arrow row.
pub struct ProcRow {
    /// Creation time (ns since the Unix epoch).
    pub t: i64,
    /// Index into [`HOSTS`].
    pub host: u8,
    /// Subject code (see `SUBJ_*`).
    pub subject: u8,
    /// Subject logon id.
    pub logon_id: u64,
    /// New process id.
    pub pid: u32,
    /// Creator (parent) process id.
    pub ppid: u32,
    /// Interned image path of the new process.
    pub image: u32,
    /// Interned image path of the parent.
    pub parent_image: u32,
    /// Full command line.
    pub cmd: String,
    /// Token elevation type (`%%1936`..`%%1938`).
    pub elevation: u16,
    /// Creation order, to break ties between equal times deterministically.
    pub seq: u64,
}

/// Interns image paths so that a million rows share a few hundred strings.
#[derive(Default)]
pub struct Interner {
    /// Interned strings by id.
    pub strings: Vec<String>,
    index: std::collections::HashMap<String, u32>,
}

impl Interner {
    /// The id of `s`, adding it if new.
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(id) = self.index.get(s) {
            return *id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.index.insert(s.to_string(), id);
        id
    }

    /// The string of an id.
    pub fn get(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }
}

const SYS32: &str = r"C:\Windows\System32\";

fn sys32(exe: &str) -> String {
    format!("{SYS32}{exe}")
}

const DEFENDER_DIR: &str = r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\";
const AGENT_DIR: &str = r"C:\Program Files\Microsoft Monitoring Agent\Agent\";
const ASMHOST: &str = r"C:\Program Files\Microsoft Monitoring Agent\Agent\Health Service State\CT_602681692\NativeDSC\DesiredStateConfiguration\ASMHost.exe";
const OFFICE_DIR: &str = r"C:\Program Files\Microsoft Office\root\Office16\";
const CHROME: &str = r"C:\Program Files\Google\Chrome\Application\chrome.exe";
const MSEDGE: &str = r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe";
const WEBVIEW: &str =
    r"C:\Program Files (x86)\Microsoft\EdgeWebView\Application\130.0.2849.80\msedgewebview2.exe";
const TEAMS: &str =
    r"C:\Program Files\WindowsApps\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\ms-teams.exe";
const ACROBAT: &str = r"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe";
const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
const CONHOST_CMD: &str = r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1";

/// A live (or finished) process the simulation can spawn children from.
#[derive(Clone, Copy, Debug)]
pub struct Proc {
    pid: u32,
    image: u32,
    t: i64,
    exit: i64,
    subject: u8,
    logon: u64,
    elevation: u16,
}

const PID_BASE: u32 = 0x100;
const PID_SLOTS: usize = 8128; // ids 0x100..0x8000 in steps of 4

/// The state of one simulated host.
struct HostSim<'a> {
    host: u8,
    rng: RefCell<DemoRng>,
    interner: &'a mut Interner,
    rows: &'a mut Vec<ProcRow>,
    busy_until: Vec<i64>,
    seq: &'a mut u64,
    end: i64,
}

impl HostSim<'_> {
    fn alloc_pid(&mut self, t: i64, exit: i64) -> Result<u32, DemoError> {
        let mut slot = None;
        for _ in 0..64 {
            let candidate = self.below(PID_SLOTS as u64) as usize;
            if self.busy_until[candidate] < t {
                slot = Some(candidate);
                break;
            }
        }
        if slot.is_none() {
            let start = self.below(PID_SLOTS as u64) as usize;
            slot = (0..PID_SLOTS)
                .map(|i| (start + i) % PID_SLOTS)
                .find(|&i| self.busy_until[i] < t);
        }
        let slot = slot.ok_or(DemoError::ProcessIdsExhausted {
            host: HOSTS[self.host as usize].name,
        })?;
        self.busy_until[slot] = exit;
        Ok(PID_BASE + 4 * slot as u32)
    }

    fn emit(&mut self, parent: &Proc, child: &Proc, cmd: String) {
        *self.seq += 1;
        self.rows.push(ProcRow {
            t: child.t,
            host: self.host,
            subject: child.subject,
            logon_id: child.logon,
            pid: child.pid,
            ppid: parent.pid,
            image: child.image,
            parent_image: parent.image,
            cmd,
            elevation: child.elevation,
            seq: *self.seq,
        });
    }

    /// Starts `image` under `parent` at `t` for `life` ns, with the parent's identity.
    /// Returns `None` when the parent is not alive at `t` (the child is then skipped).
    fn spawn(
        &mut self,
        parent: &Proc,
        t: i64,
        life: i64,
        image: &str,
        cmd: String,
    ) -> Result<Option<Proc>, DemoError> {
        self.spawn_as(
            parent,
            t,
            life,
            image,
            cmd,
            parent.subject,
            parent.logon,
            parent.elevation,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn spawn_as(
        &mut self,
        parent: &Proc,
        t: i64,
        life: i64,
        image: &str,
        cmd: String,
        subject: u8,
        logon: u64,
        elevation: u16,
    ) -> Result<Option<Proc>, DemoError> {
        if t <= parent.t || t >= parent.exit || t >= self.end {
            return Ok(None);
        }
        let exit = (t + life.max(MS)).min(self.end + DAY);
        let pid = self.alloc_pid(t, exit)?;
        let child = Proc {
            pid,
            image: self.interner.id(image),
            t,
            exit,
            subject,
            logon,
            elevation,
        };
        self.emit(parent, &child, cmd);
        Ok(Some(child))
    }

    /// A console process: its conhost child follows a few ms later.
    fn spawn_console(
        &mut self,
        parent: &Proc,
        t: i64,
        life: i64,
        image: &str,
        cmd: String,
    ) -> Result<Option<Proc>, DemoError> {
        let proc = self.spawn(parent, t, life, image, cmd)?;
        if let Some(p) = &proc {
            let dt = self.range(3, 40) * MS;
            self.spawn(
                p,
                t + dt,
                life - dt,
                &sys32("conhost.exe"),
                CONHOST_CMD.to_string(),
            )?;
        }
        Ok(proc)
    }

    fn jitter(&self, lo_ms: i64, hi_ms: i64) -> i64 {
        self.range(lo_ms, hi_ms) * MS
    }

    // The random source sits in a RefCell so that argument expressions of `spawn` calls can draw
    // from it while `spawn` holds the mutable borrow of the simulation (two-phase borrows).
    fn below(&self, n: u64) -> u64 {
        self.rng.borrow_mut().below(n)
    }

    fn range(&self, lo: i64, hi: i64) -> i64 {
        self.rng.borrow_mut().range(lo, hi)
    }

    fn chance(&self, p: f64) -> bool {
        self.rng.borrow_mut().chance(p)
    }

    fn pick<'b, T>(&self, items: &'b [T]) -> &'b T {
        self.rng.borrow_mut().pick(items)
    }

    fn weighted<'b, T>(&self, items: &'b [(T, u32)]) -> &'b T {
        self.rng.borrow_mut().weighted(items)
    }

    fn around(&self, mean: f64, spread: f64) -> u64 {
        self.rng.borrow_mut().around(mean, spread)
    }
}

/// Long-lived processes of a booted host that activities spawn from.
struct Boot {
    services: Proc,
    svc_dcom: Proc,
    svc_netsvcs: Proc,
    svc_schedule: Proc,
    defender: Proc,
    agent: Proc,
    winlogon: Proc,
    search: Option<Proc>,
}

/// An interactive session on a host.
struct Session {
    user: Option<usize>, // None = the admin account
    logon: u64,
    start: i64,
    end: i64,
    explorer: Option<Proc>,
    outlook: Option<Proc>,
    teams: Option<Proc>,
}

#[derive(Clone, Copy)]
enum Activity {
    Service,
    SessionStart(usize),
    UserApp(usize),
    AttackChain,
    Exfil(u8),
}

/// Everything the process simulation produces.
pub struct ProcessOutput {
    /// 4688 rows, sorted by time.
    pub rows: Vec<ProcRow>,
    /// Interned image paths.
    pub interner: Interner,
    /// Interactive logons (4624) that started the simulated sessions.
    pub logons: Vec<LogonRow>,
    /// Process id of the payload `msupd.exe` (for alerts).
    pub payload_pid: u32,
    /// Process id of the encoded PowerShell (for alerts).
    pub stage1_pid: u32,
    /// The interactive sessions (browsing happens during them).
    pub sessions: Vec<SessionWindow>,
}

/// Runs the process simulation of every host over the week.
pub fn simulate(seed: u64, scale: u32, start: i64, end: i64) -> Result<ProcessOutput, DemoError> {
    let mut interner = Interner::default();
    let mut rows = Vec::new();
    let mut logons = Vec::new();
    let mut seq = 0u64;
    let mut payload_pid = 0;
    let mut stage1_pid = 0;
    let mut windows = Vec::new();
    for host_index in 0..HOSTS.len() {
        let mut sim = HostSim {
            host: host_index as u8,
            rng: RefCell::new(DemoRng::new(seed, 100 + host_index as u64)),
            interner: &mut interner,
            rows: &mut rows,
            busy_until: vec![i64::MIN; PID_SLOTS],
            seq: &mut seq,
            end,
        };
        let boot = boot_host(
            &mut sim,
            host_index,
            start + 2 * SEC + host_index as i64 * 7 * SEC,
        )?;
        let mut sessions = plan_sessions(&mut sim, host_index, start);
        windows.extend(sessions.iter().map(|s| SessionWindow {
            host: host_index,
            user: s.user,
            start: s.start,
            end: s.end,
        }));
        let mut plan = plan_activities(&mut sim, host_index, scale, start, end, &sessions);
        plan.sort_by_key(|(t, _)| *t);
        let mut payload: Option<Proc> = None;
        for (t, activity) in plan {
            match activity {
                Activity::Service => service_activity(&mut sim, host_index, &boot, t)?,
                Activity::SessionStart(i) => start_session(
                    &mut sim,
                    host_index,
                    &boot,
                    &mut sessions[i],
                    &mut logons,
                    payload.is_some(),
                )?,
                Activity::UserApp(i) => user_activity(&mut sim, &sessions[i], t)?,
                Activity::AttackChain => {
                    let session = sessions
                        .iter()
                        .find(|s| {
                            s.start < t && s.end > t && s.user == Some(story::COMPROMISED_USER)
                        })
                        .ok_or(DemoError::Internal(
                            "no session of the compromised user at the attack time",
                        ))?;
                    let outlook = session.outlook.ok_or(DemoError::Internal(
                        "Outlook is not running at the attack time",
                    ))?;
                    let (stage1, msupd) = attack_chain(&mut sim, &outlook, start)?;
                    stage1_pid = stage1.pid;
                    payload_pid = msupd.pid;
                    payload = Some(msupd);
                }
                Activity::Exfil(n) => {
                    let msupd = payload
                        .ok_or(DemoError::Internal("exfiltration before the payload ran"))?;
                    let (folder, archive) = if n == 1 {
                        ("Finance", "q4.zip")
                    } else {
                        ("Contracts", "c7.zip")
                    };
                    sim.spawn(
                        &msupd,
                        t,
                        95 * SEC,
                        POWERSHELL,
                        story::exfil_command(folder, archive),
                    )?;
                }
            }
        }
    }
    rows.sort_unstable_by_key(|r| (r.t, r.host, r.seq));
    logons.sort_by_key(|r| r.t);
    Ok(ProcessOutput {
        rows,
        interner,
        logons,
        payload_pid,
        stage1_pid,
        sessions: windows,
    })
}

fn boot_host(sim: &mut HostSim, host_index: usize, t0: i64) -> Result<Boot, DemoError> {
    let role = HOSTS[host_index].role;
    let forever = 30 * DAY;
    let system = Proc {
        pid: SYSTEM_PID,
        image: sim.interner.id("System"),
        t: t0 - SEC,
        exit: i64::MAX,
        subject: SUBJ_SYSTEM,
        logon: 0x3e7,
        elevation: ELEV_FULL,
    };
    let mut t = t0;
    let mut step = |sim: &HostSim| {
        t += sim.jitter(20, 400);
        t
    };
    let smss_path = sys32("smss.exe");
    let smss = need(sim.spawn(
        &system,
        step(sim),
        forever,
        &smss_path,
        r"\SystemRoot\System32\smss.exe".into(),
    )?)?;
    let smss0 = need(sim.spawn(
        &smss,
        step(sim),
        2 * SEC,
        &smss_path,
        format!(
            r"\SystemRoot\System32\smss.exe 000000{:x} 00000084",
            0xb0 + sim.below(0x30)
        ),
    )?)?;
    let csrss_cmd = r"%SystemRoot%\system32\csrss.exe ObjectDirectory=\Windows SharedSection=1024,20480,768 Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16";
    sim.spawn(
        &smss0,
        step(sim),
        forever,
        &sys32("csrss.exe"),
        csrss_cmd.into(),
    )?;
    let wininit = need(sim.spawn(
        &smss0,
        step(sim),
        forever,
        &sys32("wininit.exe"),
        "wininit.exe".into(),
    )?)?;
    let smss1 = need(sim.spawn(
        &smss,
        step(sim),
        2 * SEC,
        &smss_path,
        format!(
            r"\SystemRoot\System32\smss.exe 000000{:x} 00000084",
            0xe0 + sim.below(0x30)
        ),
    )?)?;
    sim.spawn(
        &smss1,
        step(sim),
        forever,
        &sys32("csrss.exe"),
        csrss_cmd.into(),
    )?;
    let winlogon = need(sim.spawn(
        &smss1,
        step(sim),
        forever,
        &sys32("winlogon.exe"),
        "winlogon.exe".into(),
    )?)?;
    let services = need(sim.spawn(
        &wininit,
        step(sim),
        forever,
        &sys32("services.exe"),
        r"C:\Windows\system32\services.exe".into(),
    )?)?;
    sim.spawn(
        &wininit,
        step(sim),
        forever,
        &sys32("lsass.exe"),
        r"C:\Windows\system32\lsass.exe".into(),
    )?;
    sim.spawn(
        &winlogon,
        step(sim),
        forever,
        &sys32("dwm.exe"),
        "\"dwm.exe\"".into(),
    )?;
    let svchost = sys32("svchost.exe");
    let svc_at = |sim: &mut HostSim,
                  step: &mut dyn FnMut(&HostSim) -> i64,
                  group: &str,
                  subject: u8,
                  logon: u64|
     -> Result<Proc, DemoError> {
        let t = step(sim);
        need(sim.spawn_as(
            &services,
            t,
            forever,
            &svchost,
            format!(r"C:\Windows\system32\svchost.exe -k {group} -p"),
            subject,
            logon,
            ELEV_FULL,
        )?)
    };
    let svc_dcom = svc_at(sim, &mut step, "DcomLaunch", SUBJ_SYSTEM, 0x3e7)?;
    svc_at(sim, &mut step, "RPCSS", SUBJ_NETWORK_SERVICE, 0x3e4)?;
    svc_at(
        sim,
        &mut step,
        "LocalServiceNetworkRestricted",
        SUBJ_LOCAL_SERVICE,
        0x3e5,
    )?;
    let svc_netsvcs = svc_at(sim, &mut step, "netsvcs", SUBJ_SYSTEM, 0x3e7)?;
    let svc_schedule = need(sim.spawn(
        &services,
        step(sim),
        forever,
        &svchost,
        r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule".into(),
    )?)?;
    svc_at(sim, &mut step, "LocalService", SUBJ_LOCAL_SERVICE, 0x3e5)?;
    svc_at(
        sim,
        &mut step,
        "NetworkService",
        SUBJ_NETWORK_SERVICE,
        0x3e4,
    )?;
    svc_at(
        sim,
        &mut step,
        "LocalSystemNetworkRestricted",
        SUBJ_SYSTEM,
        0x3e7,
    )?;
    svc_at(sim, &mut step, "utcsvc", SUBJ_SYSTEM, 0x3e7)?;
    sim.spawn(
        &services,
        step(sim),
        forever,
        &sys32("spoolsv.exe"),
        r"C:\Windows\System32\spoolsv.exe".into(),
    )?;
    let defender = need(sim.spawn(
        &services,
        step(sim),
        forever,
        &format!("{DEFENDER_DIR}MsMpEng.exe"),
        format!("\"{DEFENDER_DIR}MsMpEng.exe\""),
    )?)?;
    let agent = need(sim.spawn(
        &services,
        step(sim),
        forever,
        &format!("{AGENT_DIR}MonitoringHost.exe"),
        format!("\"{AGENT_DIR}MonitoringHost.exe\" -Embedding"),
    )?)?;
    let mut search = None;
    match role {
        HostRole::DomainController => {
            sim.spawn(
                &services,
                step(sim),
                forever,
                &sys32("dns.exe"),
                r"C:\Windows\system32\dns.exe".into(),
            )?;
            sim.spawn(
                &services,
                step(sim),
                forever,
                &sys32("dfsrs.exe"),
                r"C:\Windows\system32\DFSRs.exe".into(),
            )?;
            sim.spawn(
                &services,
                step(sim),
                forever,
                &sys32("ismserv.exe"),
                r"C:\Windows\System32\ismserv.exe".into(),
            )?;
        }
        HostRole::FileServer => {
            sim.spawn(
                &services,
                step(sim),
                forever,
                &sys32("dfsrs.exe"),
                r"C:\Windows\system32\DFSRs.exe".into(),
            )?;
            sim.spawn(
                &services,
                step(sim),
                forever,
                &sys32("vds.exe"),
                r"C:\Windows\System32\vds.exe".into(),
            )?;
        }
        HostRole::Workstation => {
            search = sim.spawn(
                &services,
                step(sim),
                forever,
                &sys32("SearchIndexer.exe"),
                r"C:\Windows\system32\SearchIndexer.exe /Embedding".into(),
            )?;
            sim.spawn(
                &winlogon,
                step(sim),
                forever,
                &sys32("LogonUI.exe"),
                "\"LogonUI.exe\" /flags:0x2 /state0:0xa3b92855 /state1:0x41c64e6d".into(),
            )?;
        }
    }
    Ok(Boot {
        services,
        svc_dcom,
        svc_netsvcs,
        svc_schedule,
        defender,
        agent,
        winlogon,
        search,
    })
}

fn need(proc: Option<Proc>) -> Result<Proc, DemoError> {
    proc.ok_or(DemoError::Internal("a boot process could not start"))
}

fn plan_sessions(sim: &mut HostSim, host_index: usize, start: i64) -> Vec<Session> {
    let host = &HOSTS[host_index];
    let mut sessions = Vec::new();
    for day in 0..7 {
        let day_start = start + day * DAY;
        let weekend = weekday(start, day_start) >= 5;
        match (host.role, host.primary_user) {
            (HostRole::Workstation, Some(user)) => {
                if !weekend {
                    let begin = day_start + 7 * HOUR + sim.range(0, 115 * 60) * SEC;
                    let end = day_start + 16 * HOUR + 30 * MIN + sim.range(0, 150 * 60) * SEC;
                    sessions.push(new_session(sim, Some(user), begin, end));
                } else if sim.chance(0.25) {
                    let begin = day_start + 10 * HOUR + sim.range(0, 90 * 60) * SEC;
                    let end = begin + HOUR + sim.range(0, 60 * 60) * SEC;
                    sessions.push(new_session(sim, Some(user), begin, end));
                }
            }
            _ => {
                // The administrator signs in to the servers over RDP on some workdays.
                if !weekend && sim.chance(0.6) {
                    let begin = day_start + 10 * HOUR + sim.range(0, 5 * 3600) * SEC;
                    let end = begin + 20 * MIN + sim.range(0, 70 * 60) * SEC;
                    sessions.push(new_session(sim, None, begin, end));
                }
            }
        }
    }
    sessions
}

fn new_session(sim: &mut HostSim, user: Option<usize>, start: i64, end: i64) -> Session {
    Session {
        user,
        logon: 0x1_0000_0000 + sim.range(0x10_0000, 0x7ff_ffff) as u64,
        start,
        end,
        explorer: None,
        outlook: None,
        teams: None,
    }
}

fn plan_activities(
    sim: &mut HostSim,
    host_index: usize,
    scale: u32,
    start: i64,
    end: i64,
    sessions: &[Session],
) -> Vec<(i64, Activity)> {
    let mut plan = Vec::new();
    let host = &HOSTS[host_index];
    let per_day_services = match host.role {
        HostRole::DomainController => 76.0,
        HostRole::FileServer => 66.0,
        HostRole::Workstation => 56.0,
    } * f64::from(scale);
    for day in 0..7 {
        let day_start = start + day * DAY;
        let weekend = weekday(start, day_start) >= 5;
        let count = sim.around(per_day_services * if weekend { 0.8 } else { 1.0 }, 0.1);
        for _ in 0..count {
            let t = day_start + 10 * MIN + sim.range(0, (DAY - 11 * MIN) / MS) * MS;
            plan.push((t.min(end - MIN), Activity::Service));
        }
    }
    for (i, session) in sessions.iter().enumerate() {
        plan.push((session.start, Activity::SessionStart(i)));
        let hours = (session.end - session.start) as f64 / HOUR as f64;
        let rate = if session.user.is_some() { 6.5 } else { 4.0 };
        let count = sim.around(hours * rate * f64::from(scale), 0.15);
        for _ in 0..count {
            let span = (session.end - session.start - 6 * MIN) / MS;
            let t = session.start + 3 * MIN + sim.range(0, span) * MS;
            plan.push((t, Activity::UserApp(i)));
        }
    }
    if host.name == story::COMPROMISED_HOST {
        plan.push((start + story::DOC_OPEN, Activity::AttackChain));
        plan.push((start + story::EXFIL_1, Activity::Exfil(1)));
        plan.push((start + story::EXFIL_2, Activity::Exfil(2)));
    }
    plan
}

fn service_activity(
    sim: &mut HostSim,
    host_index: usize,
    boot: &Boot,
    t: i64,
) -> Result<(), DemoError> {
    let role = HOSTS[host_index].role;
    #[derive(Clone, Copy)]
    enum Kind {
        Inventory,
        Task,
        Wmi,
        Defender,
        Update,
        Telemetry,
        TransientService,
        Search,
        Backup,
        GroupPolicy,
    }
    let choices: &[(Kind, u32)] = match role {
        HostRole::Workstation => &[
            (Kind::Inventory, 20),
            (Kind::Task, 22),
            (Kind::Wmi, 14),
            (Kind::Defender, 8),
            (Kind::Update, 5),
            (Kind::Telemetry, 4),
            (Kind::TransientService, 10),
            (Kind::Search, 14),
            (Kind::GroupPolicy, 3),
        ],
        HostRole::FileServer => &[
            (Kind::Inventory, 24),
            (Kind::Task, 18),
            (Kind::Wmi, 16),
            (Kind::Defender, 8),
            (Kind::Update, 4),
            (Kind::TransientService, 10),
            (Kind::Backup, 12),
            (Kind::GroupPolicy, 3),
        ],
        HostRole::DomainController => &[
            (Kind::Inventory, 24),
            (Kind::Task, 18),
            (Kind::Wmi, 22),
            (Kind::Defender, 8),
            (Kind::Update, 4),
            (Kind::TransientService, 12),
            (Kind::GroupPolicy, 8),
        ],
    };
    match *sim.weighted(choices) {
        Kind::Inventory => {
            let state = r"C:\Program Files\Microsoft Monitoring Agent\Agent\Health Service State\CT_602681692\work\ServiceState";
            let cmd =
                format!("\"{ASMHOST}\" GetInventory \"{state}\\ServiceState.mof\" \"{state}\"");
            let life = sim.jitter(800, 4000);
            sim.spawn_console(&boot.agent, t, life, ASMHOST, cmd)?;
        }
        Kind::Task => {
            let options: &[(&str, &str)] = &[
                ("taskhostw.exe", "taskhostw.exe SYSTEM"),
                ("taskhostw.exe", "taskhostw.exe Install $(Arg0)"),
                (
                    "taskhostw.exe",
                    "taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly",
                ),
                (
                    "rundll32.exe",
                    r"C:\Windows\system32\rundll32.exe C:\Windows\system32\Windows.StateRepositoryClient.dll,StateRepositoryDoMaintenanceTasks",
                ),
                ("defrag.exe", r"C:\Windows\system32\defrag.exe -c -h -o -$"),
                ("sc.exe", r"C:\Windows\system32\sc.exe start wuauserv"),
                ("MRT.exe", r"C:\Windows\system32\MRT.exe /EHB /Q"),
            ];
            let (exe, cmd) = *sim.pick(options);
            let life = sim.jitter(500, 90_000);
            if exe == "defrag.exe" {
                sim.spawn_console(&boot.svc_schedule, t, life, &sys32(exe), cmd.into())?;
            } else {
                sim.spawn(&boot.svc_schedule, t, life, &sys32(exe), cmd.into())?;
            }
        }
        Kind::Wmi => {
            let life = sim.jitter(5_000, 300_000);
            let wmi = sim.spawn_as(
                &boot.svc_dcom,
                t,
                life,
                &sys32(r"wbem\WmiPrvSE.exe"),
                r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding".into(),
                SUBJ_NETWORK_SERVICE,
                0x3e4,
                ELEV_FULL,
            )?;
            if let (Some(wmi), true) = (wmi, sim.chance(0.15)) {
                let dt = sim.jitter(200, 3000);
                sim.spawn_console(
                    &wmi,
                    t + dt,
                    sim.jitter(300, 2000),
                    &sys32("cmd.exe"),
                    r#"cmd.exe /c "C:\Windows\System32\ipconfig.exe /all""#.into(),
                )?;
            }
        }
        Kind::Defender => {
            let options = [
                "-SignatureUpdate -ScheduleJob -RestrictPrivileges -DailyReleaseDelay 0",
                "-IdleTask -TaskName WdCacheMaintenance",
                "-IdleTask -TaskName WdCleanup",
                "-wdenable",
                "Scan -ScheduleJob -ScanTrigger 55 -IdleScheduledJob",
            ];
            let args = *sim.pick(&options);
            let exe = format!("{DEFENDER_DIR}MpCmdRun.exe");
            let life = sim.jitter(2_000, 120_000);
            sim.spawn_console(&boot.defender, t, life, &exe, format!("\"{exe}\" {args}"))?;
        }
        Kind::Update => {
            let life = sim.jitter(1_000, 20_000);
            let args = *sim.pick(&[
                "StartScan",
                "StartInteractiveScan",
                "RefreshSettings",
                "StartDownload",
            ]);
            sim.spawn(
                &boot.svc_netsvcs,
                t,
                life,
                &sys32("usoclient.exe"),
                format!(r"C:\Windows\system32\usoclient.exe {args}"),
            )?;
        }
        Kind::Telemetry => {
            let life = sim.jitter(5_000, 60_000);
            let p = sim.spawn(
                &boot.svc_schedule,
                t,
                life,
                &sys32("CompatTelRunner.exe"),
                r"C:\Windows\system32\compattelrunner.exe -maintenance".into(),
            )?;
            if let Some(p) = p {
                let dt = sim.jitter(500, 4000);
                sim.spawn_console(&p, t + dt, sim.jitter(500, 5000), &sys32("CompatTelRunner.exe"), r"C:\Windows\system32\CompatTelRunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun -cv:5Fe3lTrnPE+WqoiT.2".into())?;
            }
        }
        Kind::TransientService => {
            let options: &[(&str, &str)] = &[
                (
                    "svchost.exe",
                    r"C:\Windows\system32\svchost.exe -k netsvcs -p -s BITS",
                ),
                (
                    "svchost.exe",
                    r"C:\Windows\System32\svchost.exe -k wsappx -p -s AppXSvc",
                ),
                (
                    "svchost.exe",
                    r"C:\Windows\system32\svchost.exe -k LocalSystemNetworkRestricted -p -s TrkWks",
                ),
                ("sppsvc.exe", r"C:\Windows\system32\sppsvc.exe"),
                (
                    "TrustedInstaller.exe",
                    r"C:\Windows\servicing\TrustedInstaller.exe",
                ),
                (
                    "svchost.exe",
                    r"C:\Windows\System32\svchost.exe -k netsvcs -p -s gpsvc",
                ),
            ];
            let (exe, cmd) = *sim.pick(options);
            let image = if exe == "TrustedInstaller.exe" {
                r"C:\Windows\servicing\TrustedInstaller.exe".to_string()
            } else {
                sys32(exe)
            };
            let life = sim.jitter(30_000, 900_000);
            let p = sim.spawn(&boot.services, t, life, &image, cmd.into())?;
            if let (Some(p), true) = (p, exe == "TrustedInstaller.exe") {
                let dt = sim.jitter(500, 3000);
                let tiworker = r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.20348.2700_none_7c6e5d3b9f1b2a44\TiWorker.exe";
                sim.spawn(
                    &p,
                    t + dt,
                    life - dt,
                    tiworker,
                    format!("{tiworker} -Embedding"),
                )?;
            }
        }
        Kind::Search => {
            if let Some(search) = &boot.search {
                let life = sim.jitter(10_000, 240_000);
                let exe = sys32("SearchProtocolHost.exe");
                let cmd = format!(
                    "\"{exe}\" Global\\UsGthrFltPipeMssGthrPipe{n}_ Global\\UsGthrCtrlFltPipeMssGthrPipe{n} 1 -2147483646 \"Software\\Microsoft\\Windows Search\" \"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)\" \"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc\" \"DownLevelDaemon\"",
                    n = sim.range(1, 400)
                );
                let p = sim.spawn(search, t, life, &exe, cmd)?;
                if let Some(p) = p {
                    let dt = sim.jitter(100, 2000);
                    let filter = sys32("SearchFilterHost.exe");
                    sim.spawn_as(
                        search,
                        t + dt,
                        life / 2,
                        &filter,
                        format!("\"{filter}\" 0 916 920 928 8192 924 900"),
                        p.subject,
                        p.logon,
                        p.elevation,
                    )?;
                }
            }
        }
        Kind::Backup => {
            let life = sim.jitter(60_000, 1_800_000);
            let p = sim.spawn_console(
                &boot.svc_schedule,
                t,
                life,
                &sys32("cmd.exe"),
                r#"C:\Windows\system32\cmd.exe /c "D:\Scripts\replicate-shares.cmd""#.into(),
            )?;
            if let Some(p) = p {
                let dt = sim.jitter(100, 900);
                let share = *sim.pick(&["Finance", "HR", "Projects", "Contracts", "Public"]);
                sim.spawn(&p, t + dt, life - dt, &sys32("Robocopy.exe"), format!(r"robocopy  D:\Shares\{share} \\LRK-BK01\Replica\{share} /MIR /R:1 /W:5 /NP /LOG+:D:\Logs\robocopy-{share}.log"))?;
            }
        }
        Kind::GroupPolicy => {
            let life = sim.jitter(2_000, 30_000);
            sim.spawn_console(
                &boot.svc_netsvcs,
                t,
                life,
                &sys32("gpupdate.exe"),
                r"C:\Windows\system32\gpupdate.exe /target:computer".into(),
            )?;
        }
    }
    Ok(())
}

fn start_session(
    sim: &mut HostSim,
    host_index: usize,
    boot: &Boot,
    session: &mut Session,
    logons: &mut Vec<LogonRow>,
    backdoored: bool,
) -> Result<(), DemoError> {
    let host = &HOSTS[host_index];
    let (subject, sam, rid) = match session.user {
        Some(u) => (SUBJ_USER0 + u as u8, USERS[u].sam, USERS[u].rid),
        None => (SUBJ_ADMIN, ADMIN_ACCOUNT, ADMIN_RID),
    };
    let logon_type = if host.role == HostRole::Workstation {
        2
    } else {
        10
    };
    let source_ip = if logon_type == 10 {
        HOSTS[2].ip
    } else {
        "127.0.0.1"
    };
    let source_workstation = if logon_type == 10 {
        HOSTS[2].name
    } else {
        host.name
    };
    logons.push(LogonRow::success_interactive(
        session.start,
        host_index,
        sam,
        rid,
        session.logon,
        logon_type,
        source_ip,
        source_workstation,
    ));
    let t = session.start + sim.jitter(400, 1500);
    let life = session.end - t;
    let elevation = if session.user.is_none() {
        ELEV_FULL
    } else {
        ELEV_LIMITED
    };
    let userinit = sim.spawn_as(
        &boot.winlogon,
        t,
        12 * SEC,
        &sys32("userinit.exe"),
        r"C:\Windows\system32\userinit.exe".into(),
        subject,
        session.logon,
        elevation,
    )?;
    let userinit = need(userinit)?;
    let t = t + sim.jitter(300, 2000);
    let explorer = need(sim.spawn(
        &userinit,
        t,
        life,
        r"C:\Windows\explorer.exe",
        r"C:\Windows\Explorer.EXE".into(),
    )?)?;
    session.explorer = Some(explorer);
    let mut t = t + sim.jitter(1500, 4000);
    sim.spawn_as(
        &boot.services,
        t,
        life,
        &sys32("sihost.exe"),
        "sihost.exe".into(),
        subject,
        session.logon,
        elevation,
    )?;
    t += sim.jitter(50, 900);
    sim.spawn_as(
        &boot.svc_schedule,
        t,
        life,
        &sys32("taskhostw.exe"),
        "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}".into(),
        subject,
        session.logon,
        elevation,
    )?;
    t += sim.jitter(900, 5000);
    sim.spawn(
        &explorer,
        t,
        life,
        &sys32("SecurityHealthSystray.exe"),
        r#""C:\Windows\System32\SecurityHealthSystray.exe""#.into(),
    )?;
    if let Some(user) = session.user {
        t += sim.jitter(500, 3000);
        let onedrive = format!(
            r"C:\Users\{}\AppData\Local\Microsoft\OneDrive\OneDrive.exe",
            USERS[user].sam
        );
        sim.spawn(
            &explorer,
            t,
            life,
            &onedrive,
            format!("\"{onedrive}\" /background"),
        )?;
        if user == story::COMPROMISED_USER && backdoored {
            // The Run key and the logon task come back at every later logon.
            t += sim.jitter(200, 800);
            sim.spawn(
                &explorer,
                t,
                2 * SEC,
                story::PAYLOAD_PATH,
                format!("\"{}\"", story::PAYLOAD_PATH),
            )?;
            t += sim.jitter(200, 800);
            sim.spawn_as(
                &boot.svc_schedule,
                t,
                life,
                POWERSHELL,
                story::task_command(),
                subject,
                session.logon,
                elevation,
            )?;
        }
        t += sim.jitter(20_000, 300_000);
        let outlook = format!("{OFFICE_DIR}OUTLOOK.EXE");
        session.outlook = sim.spawn(
            &explorer,
            t,
            session.end - t,
            &outlook,
            format!("\"{outlook}\" "),
        )?;
        t += sim.jitter(2_000, 60_000);
        session.teams = sim.spawn(
            &explorer,
            t,
            session.end - t,
            TEAMS,
            format!("\"{TEAMS}\" msteams:system-initiated"),
        )?;
        if let Some(teams) = session.teams {
            let dt = sim.jitter(800, 3000);
            sim.spawn(&teams, t + dt, session.end - t - dt, WEBVIEW, format!("\"{WEBVIEW}\" --embedded-browser-webview=1 --webview-exe-name=ms-teams.exe --user-data-dir=\"C:\\Users\\{}\\AppData\\Local\\Packages\\MSTeams_8wekyb3d8bbwe\\LocalCache\\Microsoft\\MSTeams\\EBWebView\"", USERS[user].sam))?;
        }
    }
    Ok(())
}

fn user_activity(sim: &mut HostSim, session: &Session, t: i64) -> Result<(), DemoError> {
    let Some(explorer) = session.explorer else {
        return Ok(());
    };
    let remaining = session.end - t;
    let sam = session.user.map(|u| USERS[u].sam).unwrap_or(ADMIN_ACCOUNT);
    #[derive(Clone, Copy)]
    enum Kind {
        Browser,
        Edge,
        Word,
        Excel,
        Pdf,
        Notepad,
        Shell,
        TeamsView,
        AdminTool,
        AdminShell,
    }
    let it_user = matches!(session.user, Some(0) | Some(1));
    let choices: &[(Kind, u32)] = if session.user.is_none() {
        &[
            (Kind::AdminTool, 40),
            (Kind::AdminShell, 40),
            (Kind::Notepad, 10),
            (Kind::Edge, 10),
        ]
    } else if it_user {
        &[
            (Kind::Browser, 30),
            (Kind::Edge, 8),
            (Kind::Word, 8),
            (Kind::Excel, 8),
            (Kind::Pdf, 5),
            (Kind::Notepad, 8),
            (Kind::Shell, 15),
            (Kind::TeamsView, 10),
        ]
    } else {
        &[
            (Kind::Browser, 34),
            (Kind::Edge, 10),
            (Kind::Word, 14),
            (Kind::Excel, 14),
            (Kind::Pdf, 8),
            (Kind::Notepad, 6),
            (Kind::Shell, 2),
            (Kind::TeamsView, 12),
        ]
    };
    let docs = [
        "Q4 budget",
        "Board update",
        "Supplier list",
        "Team rota",
        "Project plan",
        "Expenses Nov",
        "Meeting notes",
        "Pricing 2027",
    ];
    let kind = *sim.weighted(choices);
    match kind {
        Kind::Browser | Kind::Edge => {
            let edge = matches!(kind, Kind::Edge);
            let exe = if edge { MSEDGE } else { CHROME };
            let life = (sim.jitter(120_000, 5_400_000)).min(remaining);
            let browser = sim.spawn(&explorer, t, life, exe, format!("\"{exe}\" "))?;
            if let Some(browser) = browser {
                let mut ct = t;
                let gpu_dt = sim.jitter(80, 400);
                sim.spawn(&browser, ct + gpu_dt, life - gpu_dt, exe, format!("\"{exe}\" --type=gpu-process --gpu-preferences=UAAAAAAAAADgAAAMAAAAAAAAAAAAAAAAAABgAAEAAAA4AAAAAAAAAAAAAAAEAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA --field-trial-handle=1948,i,{},262144 /prefetch:2", sim.range(1_000_000_000_000_000, 9_000_000_000_000_000)))?;
                ct += gpu_dt;
                let util_dt = sim.jitter(20, 200);
                sim.spawn(&browser, ct + util_dt, life - gpu_dt - util_dt, exe, format!("\"{exe}\" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-GB --service-sandbox-type=none --field-trial-handle=1948,i,{},262144 /prefetch:3", sim.range(1_000_000_000_000_000, 9_000_000_000_000_000)))?;
                let tabs = sim.range(1, 4);
                for n in 0..tabs {
                    ct += sim.jitter(300, 600_000);
                    if ct >= t + life {
                        break;
                    }
                    sim.spawn(&browser, ct, sim.jitter(10_000, 2_400_000), exe, format!("\"{exe}\" --type=renderer --lang=en-GB --renderer-client-id={} --launch-time-ticks={} /prefetch:1", 5 + n, sim.range(100_000_000, 999_999_999)))?;
                }
            }
        }
        Kind::Word | Kind::Excel => {
            let word = matches!(kind, Kind::Word);
            let (exe, ext) = if word {
                ("WINWORD.EXE", "docx")
            } else {
                ("EXCEL.EXE", "xlsx")
            };
            let image = format!("{OFFICE_DIR}{exe}");
            let doc = *sim.pick(&docs);
            let life = sim.jitter(60_000, 3_600_000).min(remaining);
            let cmd = if word {
                format!("\"{image}\" /n \"C:\\Users\\{sam}\\Documents\\{doc}.{ext}\" /o \"\"")
            } else {
                format!("\"{image}\" \"C:\\Users\\{sam}\\Documents\\{doc}.{ext}\"")
            };
            let p = sim.spawn(&explorer, t, life, &image, cmd)?;
            if let (Some(p), true) = (p, sim.chance(0.1)) {
                let dt = sim.jitter(30_000, 600_000);
                sim.spawn(
                    &p,
                    t + dt,
                    sim.jitter(5_000, 60_000),
                    &sys32("splwow64.exe"),
                    r"C:\Windows\splwow64.exe 8192".into(),
                )?;
            }
        }
        Kind::Pdf => {
            let life = sim.jitter(30_000, 1_200_000).min(remaining);
            let doc = *sim.pick(&[
                "Invoice 2026-1187",
                "Travel policy",
                "Contract draft v3",
                "Datasheet",
            ]);
            sim.spawn(
                &explorer,
                t,
                life,
                ACROBAT,
                format!("\"{ACROBAT}\" \"C:\\Users\\{sam}\\Downloads\\{doc}.pdf\""),
            )?;
        }
        Kind::Notepad => {
            let life = sim.jitter(10_000, 900_000).min(remaining);
            let file = *sim.pick(&["todo.txt", "notes.txt", "hosts-check.txt", "draft.txt"]);
            sim.spawn(
                &explorer,
                t,
                life,
                &sys32("notepad.exe"),
                format!("\"C:\\Windows\\system32\\NOTEPAD.EXE\" C:\\Users\\{sam}\\Desktop\\{file}"),
            )?;
        }
        Kind::Shell => {
            let life = sim.jitter(20_000, 600_000).min(remaining);
            let cmd = sim.spawn_console(
                &explorer,
                t,
                life,
                &sys32("cmd.exe"),
                r#""C:\Windows\system32\cmd.exe" "#.into(),
            )?;
            if let Some(cmd) = cmd {
                let mut ct = t;
                for _ in 0..sim.range(1, 3) {
                    ct += sim.jitter(2_000, 60_000);
                    let (exe, line) = *sim.pick(&[
                        ("ipconfig.exe", "ipconfig  /all"),
                        ("ipconfig.exe", "ipconfig  /flushdns"),
                        ("PING.EXE", "ping  lrk-fs01"),
                        ("nslookup.exe", "nslookup  intranet.larkspur-labs.com"),
                        ("whoami.exe", "whoami"),
                        ("gpresult.exe", "gpresult  /r"),
                        ("tasklist.exe", "tasklist"),
                    ]);
                    sim.spawn(&cmd, ct, sim.jitter(50, 4000), &sys32(exe), line.into())?;
                }
            }
        }
        Kind::TeamsView => {
            if let Some(teams) = session.teams {
                let life = sim.jitter(20_000, 1_200_000).min(remaining);
                sim.spawn(&teams, t, life, WEBVIEW, format!("\"{WEBVIEW}\" --type=renderer --webview-exe-name=ms-teams.exe --lang=en-GB --renderer-client-id={} /prefetch:1", sim.range(6, 90)))?;
            }
        }
        Kind::AdminTool => {
            let life = sim.jitter(60_000, 1_200_000).min(remaining);
            let snapin = *sim.pick(&[
                "dsa.msc",
                "gpmc.msc",
                "dnsmgmt.msc",
                "eventvwr.msc",
                "compmgmt.msc",
                "fsmgmt.msc",
            ]);
            sim.spawn_as(
                &explorer,
                t,
                life,
                &sys32("mmc.exe"),
                format!("\"C:\\Windows\\system32\\mmc.exe\" \"C:\\Windows\\system32\\{snapin}\""),
                explorer.subject,
                explorer.logon,
                ELEV_ELEVATED,
            )?;
        }
        Kind::AdminShell => {
            let life = sim.jitter(60_000, 1_200_000).min(remaining);
            let ps = sim.spawn_as(
                &explorer,
                t,
                life,
                POWERSHELL,
                r#""C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" "#.into(),
                explorer.subject,
                explorer.logon,
                ELEV_ELEVATED,
            )?;
            if let Some(ps) = ps {
                let dt = sim.jitter(5, 60);
                sim.spawn(
                    &ps,
                    t + dt,
                    life - dt,
                    &sys32("conhost.exe"),
                    CONHOST_CMD.into(),
                )?;
                let mut ct = t + dt;
                for _ in 0..sim.range(0, 2) {
                    ct += sim.jitter(5_000, 120_000);
                    let (exe, line) = *sim.pick(&[
                        (
                            "gpupdate.exe",
                            r#""C:\Windows\system32\gpupdate.exe" /force"#,
                        ),
                        (
                            "repadmin.exe",
                            r#""C:\Windows\system32\repadmin.exe" /replsummary"#,
                        ),
                        ("dcdiag.exe", r#""C:\Windows\system32\dcdiag.exe" /q"#),
                        ("net.exe", r#""C:\Windows\system32\net.exe" share"#),
                        (
                            "w32tm.exe",
                            r#""C:\Windows\system32\w32tm.exe" /query /status"#,
                        ),
                    ]);
                    sim.spawn(&ps, ct, sim.jitter(500, 20_000), &sys32(exe), line.into())?;
                }
            }
        }
    }
    Ok(())
}

/// The attack chain on the compromised host; returns the encoded PowerShell and the payload.
fn attack_chain(sim: &mut HostSim, outlook: &Proc, start: i64) -> Result<(Proc, Proc), DemoError> {
    let missing = || DemoError::Internal("an attack-chain process could not start");
    let week = 7 * DAY;
    let word_image = format!("{OFFICE_DIR}WINWORD.EXE");
    let word = sim
        .spawn(
            outlook,
            start + story::DOC_OPEN,
            25 * MIN,
            &word_image,
            format!("\"{word_image}\" /n \"{}\" /o \"\"", story::DOCUMENT_PATH),
        )?
        .ok_or_else(missing)?;
    let t = start + story::ENCODED_POWERSHELL;
    let stage1 = sim
        .spawn(&word, t, 40 * SEC, POWERSHELL, story::stage1_command())?
        .ok_or_else(missing)?;
    sim.spawn(
        &stage1,
        t + 14 * MS,
        40 * SEC,
        &sys32("conhost.exe"),
        CONHOST_CMD.into(),
    )?;
    let msupd = sim
        .spawn(
            &stage1,
            start + story::PAYLOAD_START,
            week,
            story::PAYLOAD_PATH,
            format!("\"{}\"", story::PAYLOAD_PATH),
        )?
        .ok_or_else(missing)?;
    let t = start + story::PAYLOAD_START + 3 * SEC + 376 * MS;
    sim.spawn(&stage1, t, 600 * MS, &sys32("reg.exe"), format!("\"C:\\Windows\\system32\\reg.exe\" add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v MsUpdate /t REG_SZ /d {} /f", story::PAYLOAD_PATH))?;
    let t = t + SEC + 307 * MS;
    sim.spawn(
        &stage1,
        t,
        900 * MS,
        &sys32("schtasks.exe"),
        format!(
            "\"C:\\Windows\\system32\\schtasks.exe\" /create /f /sc onlogon /tn {} /tr \"{}\"",
            story::TASK_NAME,
            story::task_command().replace('"', "\\\"")
        ),
    )?;
    // Discovery from the backdoor, a few minutes later.
    let mut t = start + story::DISCOVERY_START;
    type Step<'a> = (&'a str, &'a str, &'a [(&'a str, String)]);
    let discovery: &[Step] = &[
        ("cmd.exe /c whoami /all", "whoami.exe", &[]),
        (
            "cmd.exe /c net group \"Domain Admins\" /domain",
            "net.exe",
            &[(
                "net1.exe",
                r#"C:\Windows\system32\net1  group "Domain Admins" /domain"#.to_string(),
            )],
        ),
        (
            "cmd.exe /c nltest /domain_trusts /all_trusts",
            "nltest.exe",
            &[],
        ),
    ];
    for (cmd_line, tool, grandchildren) in discovery {
        let cmd = sim
            .spawn_console(
                &msupd,
                t,
                4 * SEC,
                &sys32("cmd.exe"),
                (*cmd_line).to_string(),
            )?
            .ok_or_else(missing)?;
        let tool_line = cmd_line
            .trim_start_matches("cmd.exe /c ")
            .replacen(' ', "  ", 1);
        let tool_proc = sim
            .spawn(&cmd, t + 52 * MS, 3 * SEC, &sys32(tool), tool_line)?
            .ok_or_else(missing)?;
        for (image, line) in grandchildren.iter() {
            sim.spawn(
                &tool_proc,
                t + 97 * MS,
                2 * SEC,
                &sys32(image),
                line.clone(),
            )?;
        }
        t += story::DISCOVERY_STEP;
    }
    sim.spawn(
        &msupd,
        start + story::HOSTILE_WRITE,
        3 * SEC,
        POWERSHELL,
        story::hostile_command(),
    )?
    .ok_or_else(missing)?;
    sim.spawn(
        &msupd,
        start + story::COLLECTION,
        20 * SEC,
        POWERSHELL,
        story::collection_command(),
    )?
    .ok_or_else(missing)?;
    sim.spawn(
        &msupd,
        start + story::STAGE2_FETCH,
        8 * SEC,
        POWERSHELL,
        story::stage2_command(),
    )?
    .ok_or_else(missing)?;
    Ok((stage1, msupd))
}

/// Strings of one subject on one host: (Account, SubjectUserName, SubjectDomainName, SubjectUserSid).
pub struct SubjectStrings {
    /// `DOMAIN\user`.
    pub account: String,
    /// User name.
    pub user: String,
    /// Domain name.
    pub domain: String,
    /// SID.
    pub sid: String,
}

/// Subject strings for every (host, subject code).
pub fn subject_table() -> Vec<Vec<SubjectStrings>> {
    HOSTS
        .iter()
        .map(|host| {
            let machine = format!("{}$", host.name);
            let mut list = vec![
                SubjectStrings {
                    account: format!("{NETBIOS_DOMAIN}\\{machine}"),
                    user: machine.clone(),
                    domain: NETBIOS_DOMAIN.into(),
                    sid: "S-1-5-18".into(),
                },
                SubjectStrings {
                    account: r"NT AUTHORITY\LOCAL SERVICE".into(),
                    user: "LOCAL SERVICE".into(),
                    domain: "NT AUTHORITY".into(),
                    sid: "S-1-5-19".into(),
                },
                SubjectStrings {
                    account: r"NT AUTHORITY\NETWORK SERVICE".into(),
                    user: "NETWORK SERVICE".into(),
                    domain: "NT AUTHORITY".into(),
                    sid: "S-1-5-20".into(),
                },
                SubjectStrings {
                    account: format!("{NETBIOS_DOMAIN}\\{ADMIN_ACCOUNT}"),
                    user: ADMIN_ACCOUNT.into(),
                    domain: NETBIOS_DOMAIN.into(),
                    sid: crate::org::user_sid(ADMIN_RID),
                },
            ];
            for user in USERS {
                list.push(SubjectStrings {
                    account: format!("{NETBIOS_DOMAIN}\\{}", user.sam),
                    user: user.sam.into(),
                    domain: NETBIOS_DOMAIN.into(),
                    sid: crate::org::user_sid(user.rid),
                });
            }
            list
        })
        .collect()
}

/// `0x...` form of a subject's logon id.
pub fn logon_hex(logon: u64) -> String {
    hex_id(logon)
}
