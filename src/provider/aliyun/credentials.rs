//! Where the Alibaba Cloud keys and region come from, in this order: an explicit `--profile`
//! from the aliyun CLI's ~/.aliyun/config.json; the ALIBABA_CLOUD_* environment variables; the
//! config file's profile named by ALIBABA_CLOUD_PROFILE, its "current" one, or "default".
//! Nothing here is ever printed: errors name variables, files and modes, never values.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use crate::error::Error;

pub const ENV_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
pub const ENV_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
pub const ENV_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
pub const ENV_PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
pub const ENV_REGION: &str = "ALIBABA_CLOUD_REGION_ID";

#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: Option<String>,
}

/// Redacted, so that a stray `{:?}` in a log line cannot leak a secret.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[derive(Debug)]
pub struct Resolved {
    pub credentials: Credentials,
    /// The profile's region_id, used when neither --region nor ALIBABA_CLOUD_REGION_ID is set.
    pub profile_region: Option<String>,
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
    #[serde(default)]
    region_id: String,
}

/// Looks up an environment variable; empty counts as unset.
pub type Lookup = Box<dyn Fn(&str) -> Option<String>>;

/// What the process environment says, behind a lookup so tests can pass their own.
pub struct Env {
    pub vars: Lookup,
    pub home: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            vars: Box::new(|name| std::env::var(name).ok().filter(|v| !v.is_empty())),
            home: std::env::home_dir(),
        }
    }

    pub fn var(&self, name: &str) -> Option<String> {
        (self.vars)(name)
    }

    fn config_path(&self) -> Option<PathBuf> {
        self.home
            .as_ref()
            .map(|h| h.join(".aliyun").join("config.json"))
    }
}

pub fn resolve(explicit_profile: Option<&str>, env: &Env) -> Result<Resolved, Error> {
    if let Some(name) = explicit_profile {
        return from_profile(Some(name), env);
    }
    match (env.var(ENV_KEY_ID), env.var(ENV_SECRET)) {
        (Some(access_key_id), Some(access_key_secret)) => {
            // The keys come from the environment; the profile may still name the region.
            let profile_region = from_profile(env.var(ENV_PROFILE).as_deref(), env)
                .ok()
                .and_then(|p| p.profile_region);
            return Ok(Resolved {
                credentials: Credentials {
                    access_key_id,
                    access_key_secret,
                    security_token: env.var(ENV_TOKEN),
                },
                profile_region,
            });
        }
        (Some(_), None) => {
            return Err(Error::Config(format!(
                "{ENV_KEY_ID} is set but {ENV_SECRET} is not: set both, or neither to use \
                 ~/.aliyun/config.json"
            )));
        }
        (None, Some(_)) => {
            return Err(Error::Config(format!(
                "{ENV_SECRET} is set but {ENV_KEY_ID} is not: set both, or neither to use \
                 ~/.aliyun/config.json"
            )));
        }
        (None, None) => {}
    }
    from_profile(env.var(ENV_PROFILE).as_deref(), env)
}

fn no_credentials() -> Error {
    Error::Config(format!(
        "no Alibaba Cloud credentials: set {ENV_KEY_ID} and {ENV_SECRET} (and {ENV_TOKEN} for \
         an STS token), or configure a profile with `aliyun configure` (~/.aliyun/config.json)"
    ))
}

fn from_profile(wanted: Option<&str>, env: &Env) -> Result<Resolved, Error> {
    let Some(path) = env.config_path() else {
        return Err(no_credentials());
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(match wanted {
                Some(name) => Error::Config(format!(
                    "profile {:?} not found: {} does not exist",
                    crate::echo::shown(name, 60),
                    path.display()
                )),
                None => no_credentials(),
            });
        }
        Err(e) => {
            return Err(Error::Config(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    // serde_json's message names a line and column, never the file's contents.
    let config: ConfigFile = serde_json::from_str(&text).map_err(|e| {
        Error::Config(format!(
            "{} is not valid aliyun CLI configuration: {e}",
            path.display()
        ))
    })?;
    let name = wanted
        .map(str::to_owned)
        .or(config.current.clone().filter(|c| !c.is_empty()))
        .unwrap_or_else(|| "default".to_owned());
    let Some(profile) = config.profiles.into_iter().find(|p| p.name == name) else {
        return Err(if wanted.is_some() {
            Error::Config(format!(
                "profile {:?} not found in {}",
                crate::echo::shown(&name, 60),
                path.display()
            ))
        } else {
            no_credentials()
        });
    };
    let token = match profile.mode.as_str() {
        // The aliyun CLI writes "AK" for plain key pairs; older files leave the mode empty.
        "AK" | "" => None,
        "StsToken" => {
            if profile.sts_token.is_empty() {
                return Err(Error::Config(format!(
                    "profile {name:?} is in StsToken mode but has no sts_token"
                )));
            }
            Some(profile.sts_token)
        }
        other => {
            return Err(Error::Config(format!(
                "profile {name:?} uses credential mode {other:?}, which ssmres does not support \
                 yet (AK and StsToken are supported): export {ENV_KEY_ID}, {ENV_SECRET} and \
                 {ENV_TOKEN} instead, e.g. from `aliyun sts AssumeRole`"
            )));
        }
    };
    if profile.access_key_id.is_empty() || profile.access_key_secret.is_empty() {
        return Err(Error::Config(format!(
            "profile {name:?} has no access_key_id or access_key_secret"
        )));
    }
    Ok(Resolved {
        credentials: Credentials {
            access_key_id: profile.access_key_id,
            access_key_secret: profile.access_key_secret,
            security_token: token,
        },
        profile_region: Some(profile.region_id).filter(|r| !r.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)], home: Option<&std::path::Path>) -> Env {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Env {
            vars: Box::new(move |name| map.get(name).cloned()),
            home: home.map(|h| h.to_path_buf()),
        }
    }

    /// `resolve` with these variables and this home.
    fn resolved(
        profile: Option<&str>,
        vars: &[(&str, &str)],
        home: &tempfile::TempDir,
    ) -> Result<Resolved, Error> {
        resolve(profile, &env(vars, Some(home.path())))
    }

    fn home_with(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aliyun")).unwrap();
        std::fs::write(dir.path().join(".aliyun/config.json"), config).unwrap();
        dir
    }

    const CONFIG: &str = r#"{
        "current": "work",
        "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "AKd", "access_key_secret": "Sd",
             "region_id": "cn-hangzhou"},
            {"name": "work", "mode": "StsToken", "access_key_id": "STS.w", "access_key_secret": "Sw",
             "sts_token": "tok-SECRET-1", "region_id": "cn-shanghai"},
            {"name": "role", "mode": "RamRoleArn", "access_key_id": "AKr", "access_key_secret": "Sr"}
        ]
    }"#;

    #[test]
    fn environment_first_then_the_current_profile() {
        let home = home_with(CONFIG);
        let r = resolved(None, &[(ENV_KEY_ID, "AKe"), (ENV_SECRET, "Se")], &home).unwrap();
        assert_eq!(r.credentials.access_key_id, "AKe");
        assert!(r.credentials.security_token.is_none());
        assert_eq!(
            r.profile_region.as_deref(),
            Some("cn-shanghai"),
            "the region still comes from the profile"
        );

        let r = resolved(None, &[], &home).unwrap();
        assert_eq!(r.credentials.access_key_id, "STS.w");
        assert_eq!(
            r.credentials.security_token.as_deref(),
            Some("tok-SECRET-1")
        );
        assert_eq!(r.profile_region.as_deref(), Some("cn-shanghai"));

        let r = resolved(None, &[(ENV_PROFILE, "default")], &home).unwrap();
        assert_eq!(r.credentials.access_key_id, "AKd");
    }

    #[test]
    fn an_explicit_profile_beats_the_environment() {
        let home = home_with(CONFIG);
        let r = resolved(
            Some("default"),
            &[(ENV_KEY_ID, "AKe"), (ENV_SECRET, "Se")],
            &home,
        )
        .unwrap();
        assert_eq!(r.credentials.access_key_id, "AKd");
        let e = resolved(Some("nope"), &[], &home).unwrap_err();
        assert!(e.to_string().contains("\"nope\" not found"), "{e}");
    }

    #[test]
    fn unsupported_modes_are_named_and_secrets_never_shown() {
        let home = home_with(CONFIG);
        let e = resolved(Some("role"), &[], &home).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("RamRoleArn") && !m.contains("Sr"), "{m}");
        let creds = resolved(Some("work"), &[], &home).unwrap().credentials;
        let shown = format!("{creds:?}");
        assert!(
            !shown.contains("Sw") && !shown.contains("SECRET"),
            "{shown}"
        );
    }

    #[test]
    fn nothing_configured_says_what_to_set() {
        let home = tempfile::tempdir().unwrap();
        let e = resolved(None, &[], &home).unwrap_err();
        assert!(e.to_string().contains(ENV_KEY_ID));
        let e = resolved(None, &[(ENV_KEY_ID, "x")], &home).unwrap_err();
        assert!(e.to_string().contains(ENV_SECRET));
    }
}
