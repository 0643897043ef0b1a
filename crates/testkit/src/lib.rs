//! Test support shared by fbgate's crates (never shipped): drive Debian's headless Chromium
//! through WebDriver, and decide what a test does when such an outside program is missing.

pub mod unavailable;
pub mod webdriver;
