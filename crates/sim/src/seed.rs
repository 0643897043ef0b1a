//! The demo data `fbgate sim` and `fbgate dev` start with, so that a login works at once.
//!
//! Ids are fixed so that documentation, tests and the lead's `fbgate dev` can name them.

use crate::model::{App, Business, ConfigTokenType, LoginConfig, Page, TestUser};
use crate::state::State;

pub const DEMO_APP_ID: &str = "1000000000000001";
pub const DEMO_APP_SECRET: &str = "sim-demo-app-secret-0001";
pub const DEMO_APP_NAME: &str = "fbgate demo app";
/// Ada Lovelace, with email `ada@example.com`.
pub const DEMO_USER_ADA: &str = "10000000000000101";
/// Nomail Person, who has no email address.
pub const DEMO_USER_NOMAIL: &str = "10000000000000102";
/// Page Owner (`owner@example.com`), who manages two pages and administers the demo business.
pub const DEMO_USER_PAGE_OWNER: &str = "10000000000000103";
/// The two pages Page Owner manages.
pub const DEMO_PAGE_IDS: [&str; 2] = ["40000000000000001", "40000000000000002"];
pub const DEMO_BUSINESS_ID: &str = "20000000000000001";
pub const DEMO_SYSTEM_USER_ID: &str = "20000000000000011";
/// Login-for-Business configuration issuing system-user tokens.
pub const DEMO_BUSINESS_CONFIG_ID: &str = "30000000000000001";
/// Login-for-Business configuration issuing user tokens.
pub const DEMO_USER_CONFIG_ID: &str = "30000000000000002";

/// The tasks a page admin has, as `/me/accounts` lists them.
pub(crate) const ADMIN_TASKS: [&str; 5] = [
    "ANALYZE",
    "ADVERTISE",
    "MODERATE",
    "CREATE_CONTENT",
    "MANAGE",
];

pub(crate) fn seed(state: &mut State) {
    state.apps.insert(
        DEMO_APP_ID.to_owned(),
        App {
            id: DEMO_APP_ID.to_owned(),
            secret: DEMO_APP_SECRET.to_owned(),
            name: DEMO_APP_NAME.to_owned(),
            redirect_uris: Vec::new(),
            any_loopback_redirect: true,
            require_appsecret_proof: false,
            deauthorize_callback_url: None,
            data_deletion_callback_url: None,
            login_configs: vec![
                LoginConfig {
                    config_id: DEMO_BUSINESS_CONFIG_ID.to_owned(),
                    token_type: ConfigTokenType::SystemUser,
                    permissions: strings(&[
                        "business_management",
                        "pages_show_list",
                        "pages_read_engagement",
                        "pages_manage_posts",
                    ]),
                    assets: Vec::new(),
                    token_expires_in_60_days: false,
                },
                LoginConfig {
                    config_id: DEMO_USER_CONFIG_ID.to_owned(),
                    token_type: ConfigTokenType::User,
                    permissions: strings(&["public_profile", "email", "pages_show_list"]),
                    assets: Vec::new(),
                    token_expires_in_60_days: false,
                },
            ],
            auto_consent: None,
            usage: State::new_usage(),
        },
    );
    add_user(
        state,
        DEMO_USER_ADA,
        "Ada Lovelace",
        Some("ada@example.com"),
    );
    add_user(state, DEMO_USER_NOMAIL, "Nomail Person", None);
    add_user(
        state,
        DEMO_USER_PAGE_OWNER,
        "Page Owner",
        Some("owner@example.com"),
    );
    for (id, name, category) in [
        (DEMO_PAGE_IDS[0], "Demo Bakery", "Bakery"),
        (DEMO_PAGE_IDS[1], "Demo Bookshop", "Book Store"),
    ] {
        state.pages.insert(
            id.to_owned(),
            Page {
                id: id.to_owned(),
                name: name.to_owned(),
                category: category.to_owned(),
                tasks: strings(&ADMIN_TASKS),
                posts: Vec::new(),
            },
        );
    }
    state.businesses.insert(
        DEMO_BUSINESS_ID.to_owned(),
        Business {
            id: DEMO_BUSINESS_ID.to_owned(),
            name: "Demo Business".to_owned(),
            admins: vec![DEMO_USER_PAGE_OWNER.to_owned()],
            system_user_id: DEMO_SYSTEM_USER_ID.to_owned(),
            system_user_name: "Demo System User".to_owned(),
            assets: strings(&DEMO_PAGE_IDS),
        },
    );
    if let Some(owner) = state.users.get_mut(DEMO_USER_PAGE_OWNER) {
        owner.pages = strings(&DEMO_PAGE_IDS);
        owner.businesses = vec![DEMO_BUSINESS_ID.to_owned()];
    }
}

fn add_user(state: &mut State, id: &str, name: &str, email: Option<&str>) {
    let (first, last) = split_name(name);
    state.users.insert(
        id.to_owned(),
        TestUser {
            id: id.to_owned(),
            name: name.to_owned(),
            first_name: first,
            last_name: last,
            email: email.map(str::to_owned),
            picture: None,
            pages: Vec::new(),
            businesses: Vec::new(),
        },
    );
}

/// "Ada Lovelace" → ("Ada", "Lovelace"); a single word is a first name.
pub(crate) fn split_name(name: &str) -> (String, String) {
    match name.trim().split_once(' ') {
        Some((first, last)) => (first.to_owned(), last.trim().to_owned()),
        None => (name.trim().to_owned(), String::new()),
    }
}

pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
