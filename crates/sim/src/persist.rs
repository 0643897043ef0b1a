//! Keeping the emulator's state across restarts (`fbgate sim --state FILE`).
//!
//! The snapshot is plain JSON of every record plus the clock's offset. Injected faults and usage
//! counters are not kept: they describe a test run, not the world. The OIDC key is not kept
//! either, so id_tokens from before a restart no longer verify (like a key rotation).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{App, Business, CodeRecord, Grant, Installation, Page, TestUser, TokenRecord};
use crate::state::{Sim, SimConfig, State};

#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    clock_offset: i64,
    apps: Vec<App>,
    users: Vec<TestUser>,
    pages: Vec<Page>,
    businesses: Vec<Business>,
    grants: Vec<(String, String, Grant)>,
    installations: Vec<(String, String, Installation)>,
    codes: Vec<(String, CodeRecord)>,
    tokens: Vec<(String, TokenRecord)>,
    page_tokens: Vec<(String, String, String)>,
}

fn invalid(error: serde_json::Error) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, error)
}

impl Sim {
    /// Writes every record to `path` as JSON (atomically: a temporary file is renamed).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let snapshot = {
            let state = self.read();
            Snapshot {
                version: 1,
                clock_offset: self.clock().offset(),
                apps: state.apps.values().cloned().collect(),
                users: state.users.values().cloned().collect(),
                pages: state.pages.values().cloned().collect(),
                businesses: state.businesses.values().cloned().collect(),
                grants: state
                    .grants
                    .iter()
                    .map(|((a, u), g)| (a.clone(), u.clone(), g.clone()))
                    .collect(),
                installations: state
                    .installations
                    .iter()
                    .map(|((a, b), i)| (a.clone(), b.clone(), i.clone()))
                    .collect(),
                codes: state
                    .codes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                tokens: state
                    .tokens
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                page_tokens: state
                    .page_tokens
                    .iter()
                    .map(|((s, p), t)| (s.clone(), p.clone(), t.clone()))
                    .collect(),
            }
        };
        let json = serde_json::to_vec_pretty(&snapshot).map_err(invalid)?;
        let temporary = path.with_extension("tmp");
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, path)
    }

    /// An emulator with the records of a file written by [`Sim::save`]; a missing file gives
    /// a fresh (seeded, per `config`) emulator.
    pub fn load(config: SimConfig, path: &Path) -> std::io::Result<Sim> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Sim::new(config));
            }
            Err(error) => return Err(error),
        };
        let snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(invalid)?;
        let sim = Sim::new(SimConfig {
            seed: false,
            ..config
        });
        let mut state = State::default();
        for mut app in snapshot.apps {
            app.usage = State::new_usage();
            state.apps.insert(app.id.clone(), app);
        }
        state.users = snapshot
            .users
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        state.pages = snapshot
            .pages
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        state.businesses = snapshot
            .businesses
            .into_iter()
            .map(|b| (b.id.clone(), b))
            .collect();
        state.grants = snapshot
            .grants
            .into_iter()
            .map(|(a, u, g)| ((a, u), g))
            .collect();
        state.installations = snapshot
            .installations
            .into_iter()
            .map(|(a, b, i)| ((a, b), i))
            .collect();
        state.codes = snapshot.codes.into_iter().collect();
        state.tokens = snapshot.tokens.into_iter().collect();
        state.page_tokens = snapshot
            .page_tokens
            .into_iter()
            .map(|(s, p, t)| ((s, p), t))
            .collect();
        *sim.write() = state;
        sim.clock().advance(snapshot.clock_offset);
        Ok(sim)
    }
}
