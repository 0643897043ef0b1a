//! Facebook's rate-limit usage headers, parsed into typed values.
//!
//! Values are percentages (0–100); Facebook throttles at 100. Two headers carry a time to
//! wait, in different units: `X-Business-Use-Case-Usage` says
//! `estimated_time_to_regain_access` in **minutes**, `X-Ad-Account-Usage` says
//! `reset_time_duration` in **seconds**. A header that does not parse is ignored rather than
//! failing the call it came with: usage is advice, the answer is what matters.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

/// `X-App-Usage` (app and user tokens).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AppUsage {
    /// Percentage of the call budget used.
    #[serde(default)]
    pub call_count: f64,
    /// Percentage of the total time budget used.
    #[serde(default)]
    pub total_time: f64,
    /// Percentage of the CPU time budget used.
    #[serde(default)]
    pub total_cputime: f64,
}

impl AppUsage {
    /// The highest of the three percentages.
    pub fn max_percent(&self) -> f64 {
        self.call_count.max(self.total_time).max(self.total_cputime)
    }
}

/// One entry of `X-Business-Use-Case-Usage`.
#[derive(Clone, Debug, PartialEq)]
pub struct BusinessUseCaseUsage {
    /// The business object (Page, ad account, …) the entry is about.
    pub object_id: String,
    /// The use case, e.g. `pages`, `ads_management`, `instagram`.
    pub use_case: String,
    /// Percentage of the call budget used.
    pub call_count: f64,
    /// Percentage of the total time budget used.
    pub total_time: f64,
    /// Percentage of the CPU time budget used.
    pub total_cputime: f64,
    /// How long until calls are allowed again (Facebook sends minutes).
    pub estimated_time_to_regain_access: Option<Duration>,
    /// The Marketing API access tier, when present.
    pub ads_api_access_tier: Option<String>,
}

#[derive(Deserialize)]
struct RawBuc {
    #[serde(rename = "type", default)]
    use_case: String,
    #[serde(default)]
    call_count: f64,
    #[serde(default)]
    total_time: f64,
    #[serde(default)]
    total_cputime: f64,
    #[serde(default)]
    estimated_time_to_regain_access: Option<f64>,
    #[serde(default)]
    ads_api_access_tier: Option<String>,
}

/// `X-Ad-Account-Usage`.
#[derive(Clone, Debug, PartialEq)]
pub struct AdAccountUsage {
    /// Percentage of the ad account's budget used.
    pub acc_id_util_pct: f64,
    /// How long until the budget resets (Facebook sends seconds).
    pub reset_time_duration: Option<Duration>,
    /// The Marketing API access tier, when present.
    pub ads_api_access_tier: Option<String>,
}

#[derive(Deserialize)]
struct RawAdAccount {
    #[serde(default)]
    acc_id_util_pct: f64,
    #[serde(default)]
    reset_time_duration: Option<f64>,
    #[serde(default)]
    ads_api_access_tier: Option<String>,
}

/// Everything the usage headers of one answer said.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    /// `X-App-Usage`.
    pub app: Option<AppUsage>,
    /// `X-Business-Use-Case-Usage`, one entry per object and use case.
    pub business_use_case: Vec<BusinessUseCaseUsage>,
    /// `X-Ad-Account-Usage`.
    pub ad_account: Option<AdAccountUsage>,
    /// A standard `Retry-After` header in seconds, if any.
    pub retry_after: Option<Duration>,
}

impl Usage {
    /// Reads the usage headers of an answer.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        Self {
            app: text("x-app-usage").and_then(|v| serde_json::from_str(v).ok()),
            business_use_case: text("x-business-use-case-usage")
                .map(parse_buc)
                .unwrap_or_default(),
            ad_account: text("x-ad-account-usage")
                .and_then(|v| serde_json::from_str::<RawAdAccount>(v).ok())
                .map(|raw| AdAccountUsage {
                    acc_id_util_pct: raw.acc_id_util_pct,
                    reset_time_duration: raw.reset_time_duration.and_then(seconds),
                    ads_api_access_tier: raw.ads_api_access_tier,
                }),
            retry_after: text("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        }
    }

    /// True when no usage header was present.
    pub fn is_empty(&self) -> bool {
        self.app.is_none()
            && self.business_use_case.is_empty()
            && self.ad_account.is_none()
            && self.retry_after.is_none()
    }

    /// The highest percentage any header reports (0 when none).
    pub fn max_percent(&self) -> f64 {
        let app = self.app.as_ref().map_or(0.0, AppUsage::max_percent);
        let buc = self
            .business_use_case
            .iter()
            .map(|b| b.call_count.max(b.total_time).max(b.total_cputime))
            .fold(0.0, f64::max);
        let ad = self.ad_account.as_ref().map_or(0.0, |a| a.acc_id_util_pct);
        app.max(buc).max(ad)
    }

    /// How long to wait before calling again: the longest wait any header names, or `None`
    /// when no header names one.
    pub fn suggested_wait(&self) -> Option<Duration> {
        let buc = self
            .business_use_case
            .iter()
            .filter_map(|b| b.estimated_time_to_regain_access)
            .max();
        let ad = self
            .ad_account
            .as_ref()
            .and_then(|a| a.reset_time_duration)
            .filter(|_| self.ad_account_throttled());
        [self.retry_after, buc, ad]
            .into_iter()
            .flatten()
            .filter(|d| !d.is_zero())
            .max()
    }

    fn ad_account_throttled(&self) -> bool {
        self.ad_account
            .as_ref()
            .is_some_and(|a| a.acc_id_util_pct >= 100.0)
    }
}

fn parse_buc(text: &str) -> Vec<BusinessUseCaseUsage> {
    let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for (object_id, value) in map {
        let Ok(raw) = serde_json::from_value::<Vec<RawBuc>>(value) else {
            continue;
        };
        entries.extend(raw.into_iter().map(|raw| {
            BusinessUseCaseUsage {
                object_id: object_id.clone(),
                use_case: raw.use_case,
                call_count: raw.call_count,
                total_time: raw.total_time,
                total_cputime: raw.total_cputime,
                estimated_time_to_regain_access: raw
                    .estimated_time_to_regain_access
                    .and_then(|minutes| seconds(minutes * 60.0)),
                ads_api_access_tier: raw.ads_api_access_tier,
            }
        }));
    }
    entries
}

fn seconds(value: f64) -> Option<Duration> {
    // Reject NaN, negatives and absurd values instead of letting `from_secs_f64` panic.
    (value.is_finite() && (0.0..=1.0e9).contains(&value)).then(|| Duration::from_secs_f64(value))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn app_usage_is_read() {
        let usage = Usage::from_headers(&headers(&[(
            "x-app-usage",
            r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
        )]));
        assert_eq!(usage.app.as_ref().unwrap().call_count, 28.0);
        assert_eq!(usage.max_percent(), 28.0);
        assert_eq!(usage.suggested_wait(), None);
    }

    #[test]
    fn business_use_case_wait_is_in_minutes() {
        let usage = Usage::from_headers(&headers(&[(
            "X-Business-Use-Case-Usage",
            r#"{"112233":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":5}],"445566":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":0,"ads_api_access_tier":"development_access"}]}"#,
        )]));
        assert_eq!(usage.business_use_case.len(), 2);
        let pages = usage
            .business_use_case
            .iter()
            .find(|b| b.object_id == "112233")
            .unwrap();
        assert_eq!(pages.use_case, "pages");
        assert_eq!(usage.suggested_wait(), Some(Duration::from_secs(300)));
        assert_eq!(usage.max_percent(), 100.0);
    }

    #[test]
    fn ad_account_reset_is_in_seconds_and_counts_only_when_throttled() {
        let full = Usage::from_headers(&headers(&[(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":100,"reset_time_duration":100,"ads_api_access_tier":"standard_access"}"#,
        )]));
        assert_eq!(full.suggested_wait(), Some(Duration::from_secs(100)));
        let light = Usage::from_headers(&headers(&[(
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":9.67,"reset_time_duration":100}"#,
        )]));
        assert_eq!(light.ad_account.as_ref().unwrap().acc_id_util_pct, 9.67);
        assert_eq!(light.suggested_wait(), None);
    }

    #[test]
    fn retry_after_and_garbage() {
        let usage = Usage::from_headers(&headers(&[
            ("retry-after", "7"),
            ("x-app-usage", "not json"),
            (
                "x-business-use-case-usage",
                r#"{"1":[{"estimated_time_to_regain_access":-4}]}"#,
            ),
        ]));
        assert_eq!(usage.app, None);
        assert_eq!(usage.suggested_wait(), Some(Duration::from_secs(7)));
        assert!(Usage::from_headers(&HeaderMap::new()).is_empty());
    }
}
