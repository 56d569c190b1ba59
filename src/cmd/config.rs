//! `/etc/antidote/antidote.toml`: every setting of `antidote run` in one file, so that the
//! service runs with no flags (`antidote run`); a flag given on the command line overrides the
//! file. Paths in the file are relative to the file's folder. An error names the file, the line
//! and the key (the TOML parser's caret under it).
use serde::Deserialize;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// Where `antidote run` and `antidote ctl` look when no `--config` is given.
pub const DEFAULT_PATH: &str = "/etc/antidote/antidote.toml";

/// The file, as written.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The hardware profile.
    pub profile: Option<PathBuf>,
    /// The policy enforced at start (and pushed again by `systemctl reload`, SIGHUP).
    pub policy: Option<PathBuf>,
    /// Seconds between summary lines (0: only the final one).
    pub stats_interval: Option<f64>,
    #[serde(default)]
    pub alerts: AlertsConfig,
    #[serde(default)]
    pub control: ControlConfig,
    #[serde(default)]
    pub canaries: CanariesConfig,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Sinks, as `--alerts` takes them.
    #[serde(default)]
    pub sinks: Vec<String>,
    /// Seconds within which repeats are folded into one summary.
    pub window: Option<f64>,
    /// Source IPv4 of NBT-NS negative answers to broadcast queries.
    pub inject_from: Option<Ipv4Addr>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    /// Address of the HTTP API, or `off`.
    pub listen: Option<String>,
    pub token_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CanariesConfig {
    /// Seconds between canary queries, on average, per pair and protocol (0: none).
    pub interval: Option<f64>,
}

impl Config {
    /// The file at `path` (`explicit`: named by `--config`, so it must exist); without one, the
    /// default file when it exists, else an empty configuration.
    pub fn load(path: Option<&Path>) -> Result<(Config, Option<PathBuf>), String> {
        // $ANTIDOTE_CONFIG stands for --config (`none`: no file at all — what the tests set, so
        // that a machine's own /etc/antidote never reaches them).
        let env = std::env::var_os("ANTIDOTE_CONFIG");
        let (path, explicit) = match (path, env) {
            (Some(p), _) => (p.to_path_buf(), true),
            (None, Some(e)) if e == "none" => return Ok((Config::default(), None)),
            (None, Some(e)) => (PathBuf::from(e), true),
            (None, None) => (PathBuf::from(DEFAULT_PATH), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => return Ok((Config::default(), None)),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let c = Config::parse(&text, &path)?;
        Ok((c, Some(path)))
    }

    /// Parses `text` (the file at `path`): paths made absolute against the file's folder, and
    /// values checked, each error with the file, line and key.
    pub fn parse(text: &str, path: &Path) -> Result<Config, String> {
        let file = path.display();
        let mut c: Config = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let base = if base.as_os_str().is_empty() { Path::new(".") } else { base };
        for p in [&mut c.profile, &mut c.policy, &mut c.control.token_file, &mut c.control.tls_cert, &mut c.control.tls_key, &mut c.control.state_dir]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        // A file sink (`PATH` or `jsonl:PATH`) is a path too.
        for sink in &mut c.alerts.sinks {
            let (prefix, path) = match sink.strip_prefix("jsonl:") {
                Some(p) => ("jsonl:", p),
                None if !sink.contains("://") => ("", sink.as_str()),
                None => continue,
            };
            if Path::new(path).is_relative() {
                *sink = format!("{prefix}{}", base.join(path).display());
            }
        }
        let bad = |key: &str, what: &str| {
            let line = text.lines().position(|l| l.trim_start().starts_with(key.rsplit('.').next().unwrap_or(key))).map(|n| n + 1).unwrap_or(1);
            format!("{file}:{line}: `{key}` {what}")
        };
        if let Some(s) = c.stats_interval {
            if !(0.0..=86_400.0).contains(&s) {
                return Err(bad("stats_interval", "must be seconds between 0 and 86400"));
            }
        }
        if let Some(w) = c.alerts.window {
            if !(0.0..=86_400.0).contains(&w) {
                return Err(bad("alerts.window", "must be seconds between 0 and 86400"));
            }
        }
        if let Some(i) = c.canaries.interval {
            if super::run::canary_interval(&i.to_string()).is_err() {
                return Err(bad("canaries.interval", "must be seconds between 0.2 and 86400, or 0 for no canaries"));
            }
        }
        if c.control.tls_cert.is_some() != c.control.tls_key.is_some() {
            return Err(bad(
                if c.control.tls_cert.is_some() { "control.tls_cert" } else { "control.tls_key" },
                "needs its pair: give both `tls_cert` and `tls_key`",
            ));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_gives_every_setting_with_paths_from_its_folder() {
        let text = r#"
profile = "profiles/lab.toml"
policy = "/etc/antidote/policies/default.policy"
stats_interval = 0

[alerts]
sinks = ["/var/log/antidote/alerts.jsonl", "syslog+udp://198.18.0.53:514"]
window = 30
inject_from = "198.18.0.1"

[control]
listen = "127.0.0.1:9440"
token_file = "tokens"
state_dir = "/var/lib/antidote"

[canaries]
interval = 20
"#;
        let c = Config::parse(text, Path::new("/etc/antidote/antidote.toml")).unwrap();
        assert_eq!(c.profile.as_deref(), Some(Path::new("/etc/antidote/profiles/lab.toml")));
        assert_eq!(c.policy.as_deref(), Some(Path::new("/etc/antidote/policies/default.policy")));
        assert_eq!(c.control.token_file.as_deref(), Some(Path::new("/etc/antidote/tokens")));
        assert_eq!(c.alerts.sinks, ["/var/log/antidote/alerts.jsonl", "syslog+udp://198.18.0.53:514"]);
        let files = Config::parse("[alerts]\nsinks = [\"alerts.jsonl\", \"jsonl:a/b.jsonl\"]\n", Path::new("/etc/antidote/antidote.toml")).unwrap();
        assert_eq!(files.alerts.sinks, ["/etc/antidote/alerts.jsonl", "jsonl:/etc/antidote/a/b.jsonl"], "file sinks from the file's folder");
        assert_eq!((c.alerts.window, c.canaries.interval, c.stats_interval), (Some(30.0), Some(20.0), Some(0.0)));
        assert_eq!(c.alerts.inject_from, Some(Ipv4Addr::new(198, 18, 0, 1)));
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_key() {
        let at = Path::new("/etc/antidote/antidote.toml");
        let e = Config::parse("profile = \"x.toml\"\n[control]\nlisten = \"127.0.0.1:9440\"\nlisen = 3\n", at).unwrap_err();
        assert!(e.starts_with("/etc/antidote/antidote.toml: ") && e.contains("line 4") && e.contains("lisen") && e.contains("listen"), "{e}");
        let e = Config::parse("stats_interval = \"often\"\n", at).unwrap_err();
        assert!(e.contains("line 1") && e.contains("stats_interval"), "{e}");
        let e = Config::parse("profile = \"x.toml\"\n\n[canaries]\ninterval = 0.01\n", at).unwrap_err();
        assert_eq!(e, "/etc/antidote/antidote.toml:4: `canaries.interval` must be seconds between 0.2 and 86400, or 0 for no canaries");
        let e = Config::parse("[control]\ntls_cert = \"c.pem\"\n", at).unwrap_err();
        assert!(e.contains(":2: `control.tls_cert` needs its pair"), "{e}");
        assert!(Config::load(Some(Path::new("/nonexistent/antidote.toml"))).unwrap_err().contains("/nonexistent/antidote.toml"));
    }
}
