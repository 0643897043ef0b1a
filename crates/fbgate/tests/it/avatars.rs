//! Avatar re-hosting: a user's Facebook picture is copied on sign-up and profile sync and served
//! from `GET /v1/avatars/{id}`; pictures that are not safe raster images, too big, too slow or
//! unreachable leave Facebook's URL in place and never fail the sign-in.
//!
//! The emulator serves only SVG pictures (which fbgate refuses), so the tests give their Facebook
//! users pictures on a small image server of their own.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode as AxumStatus, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::facebook::{TestProvider, returned_error};
use crate::helpers::{Engine, TestApp, TestEnvironment, error_code, on_both_engines, spawn_app};

on_both_engines!(
    a_new_users_png_picture_is_served_by_fbgate_with_safe_headers,
    the_same_picture_keeps_its_url_and_a_new_picture_gets_a_new_one,
    pictures_that_are_not_safe_small_raster_images_keep_facebooks_url,
    an_unknown_avatar_is_not_found,
);

/// A 1×1 PNG.
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\
\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

/// The start of a JPEG (JFIF) file; fbgate checks the magic number, not the whole file.
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";

/// Larger than fbgate's 5 MiB cap.
const HUGE: usize = 6 * 1024 * 1024;

/// What `/current` serves; tests change it between sign-ins.
type Current = Arc<Mutex<(&'static str, Vec<u8>)>>;

/// An image server on 127.0.0.1, standing in for Facebook's CDN.
struct PictureServer {
    base: String,
    /// Serves a PNG with no `Content-Length`, larger than the cap, then closes.
    unsized_huge: String,
    current: Current,
}

impl PictureServer {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn image(content_type: &'static str, bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
}

async fn hops(Path(left): Path<u32>) -> Response {
    if left == 0 {
        image("image/png", PNG.to_vec())
    } else {
        Redirect::to(&format!("/hops/{}", left - 1)).into_response()
    }
}

async fn current_picture(State(current): State<Current>) -> Response {
    let (content_type, bytes) = current.lock().unwrap().clone();
    image(content_type, bytes)
}

async fn picture_server() -> PictureServer {
    let mut huge = PNG.to_vec();
    huge.resize(HUGE, 0);
    let current: Current = Arc::new(Mutex::new(("image/png", PNG.to_vec())));
    let router = Router::new()
        .route(
            "/ada.png",
            get(|| async { image("image/png", PNG.to_vec()) }),
        )
        .route("/hops/{left}", get(hops))
        .route("/current", get(current_picture))
        .route(
            "/ada.svg",
            get(|| async {
                image(
                    "image/svg+xml",
                    b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"
                        .to_vec(),
                )
            }),
        )
        .route(
            "/page.html",
            get(|| async { image("text/html", b"<html>hello</html>".to_vec()) }),
        )
        .route(
            "/disguised.png",
            get(|| async { image("image/png", b"<html><script>x</script></html>".to_vec()) }),
        )
        .route(
            "/huge.png",
            get(move || {
                let huge = huge.clone();
                async move { image("image/png", huge) }
            }),
        )
        .route(
            "/slow.png",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(8)).await;
                image("image/png", PNG.to_vec())
            }),
        )
        .route("/gone.png", get(|| async { AxumStatus::NOT_FOUND }))
        .with_state(current.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    // A server that sends a PNG with no length at all, so only a cap on the streamed body stops it.
    let raw = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let unsized_huge = format!("http://{}/huge-unsized.png", raw.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = raw.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: image/png\r\nconnection: close\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(PNG).await;
                let chunk = vec![0u8; 64 * 1024];
                for _ in 0..(HUGE / chunk.len()) {
                    if socket.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    PictureServer {
        base,
        unsized_huge,
        current,
    }
}

/// Signs a new emulator user with this picture in through `provider`; returns fbgate's user.
async fn sign_up_with_picture(
    app: &TestApp,
    env: &TestEnvironment,
    provider: &TestProvider,
    picture: Option<&str>,
) -> Value {
    let person = match picture {
        Some(url) => app.facebook_user_with_picture("Ada Lovelace", url).await,
        None => {
            app.facebook_user("Ada Lovelace", Some("ada@example.com"))
                .await
        }
    };
    app.consent_as(provider, &person, &[]).await;
    sign_in_again(app, env, provider).await
}

/// Signs the person the emulator currently consents as in; returns fbgate's user.
async fn sign_in_again(app: &TestApp, env: &TestEnvironment, provider: &TestProvider) -> Value {
    let returned = app.sign_in(env, provider, "").await;
    assert_eq!(returned_error(&returned), None, "the sign-in succeeds");
    app.exchange(env, &returned).await["user"].clone()
}

fn avatar_dir(env: &TestEnvironment) -> PathBuf {
    // The test configuration's data dir is the system temp dir.
    std::env::temp_dir().join("avatars").join(&env.id)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn a_new_users_png_picture_is_served_by_fbgate_with_safe_headers(engine: Engine) {
    let app = spawn_app(engine).await;
    let pictures = picture_server().await;
    let env = app.create_environment("web").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;

    let user = sign_up_with_picture(&app, &env, &provider, Some(&pictures.url("/ada.png"))).await;

    let url = user["profile_image_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&app.url("/v1/avatars/ava_")),
        "profile_image_url points at fbgate: {url}"
    );
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(
        header(&response, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let etag = format!("\"{}\"", sha256_hex(PNG));
    assert_eq!(header(&response, "etag"), etag);
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(&response, "content-security-policy"),
        "default-src 'none'"
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), PNG);

    // Kept on disk under the data dir, by environment and digest.
    let file = avatar_dir(&env).join(sha256_hex(PNG));
    assert_eq!(std::fs::read(&file).unwrap(), PNG);

    // The stored user says the same as the sign-in answer.
    let stored: Value = app
        .client
        .get(app.url(&format!("/v1/users/{}", user["id"].as_str().unwrap())))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["profile_image_url"], url.as_str());

    // A browser that has it already is told so.
    let revalidated = app
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
}

async fn the_same_picture_keeps_its_url_and_a_new_picture_gets_a_new_one(engine: Engine) {
    let app = spawn_app(engine).await;
    let pictures = picture_server().await;
    let env = app.create_environment("web").await;
    let provider = app
        .facebook_provider(&env, "facebook", json!({ "sync_profile": "every_sign_in" }))
        .await;

    // Three redirects, as Graph's `/{id}/picture` and a CDN may chain them, are followed.
    let via_redirects =
        sign_up_with_picture(&app, &env, &provider, Some(&pictures.url("/hops/3"))).await;
    let first_url = via_redirects["profile_image_url"].as_str().unwrap();
    assert!(
        first_url.starts_with(&app.url("/v1/avatars/")),
        "{first_url}"
    );

    let person = app
        .facebook_user_with_picture("Grace Hopper", &pictures.url("/current"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let first = sign_in_again(&app, &env, &provider).await;
    let png_url = first["profile_image_url"].as_str().unwrap().to_owned();
    assert!(png_url.starts_with(&app.url("/v1/avatars/")), "{png_url}");

    let again = sign_in_again(&app, &env, &provider).await;
    assert_eq!(
        again["profile_image_url"],
        png_url.as_str(),
        "same bytes, same avatar"
    );

    *pictures.current.lock().unwrap() = ("image/jpeg", JPEG.to_vec());
    let changed = sign_in_again(&app, &env, &provider).await;
    let jpeg_url = changed["profile_image_url"].as_str().unwrap().to_owned();
    assert!(jpeg_url.starts_with(&app.url("/v1/avatars/")), "{jpeg_url}");
    assert_ne!(jpeg_url, png_url, "a new picture gets a new avatar");

    let jpeg = app.client.get(&jpeg_url).send().await.unwrap();
    assert_eq!(header(&jpeg, "content-type"), "image/jpeg");
    assert_eq!(jpeg.bytes().await.unwrap().as_ref(), JPEG);
    // Avatar URLs are immutable: the old one still shows the old picture.
    let old = app.client.get(&png_url).send().await.unwrap();
    assert_eq!(old.status(), StatusCode::OK);
    assert_eq!(old.bytes().await.unwrap().as_ref(), PNG);
}

async fn pictures_that_are_not_safe_small_raster_images_keep_facebooks_url(engine: Engine) {
    let app = spawn_app(engine).await;
    let pictures = picture_server().await;
    let env = app.create_environment("web").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;

    let refused = [
        ("SVG (can carry script)", pictures.url("/ada.svg")),
        ("not an image type", pictures.url("/page.html")),
        ("PNG header over HTML bytes", pictures.url("/disguised.png")),
        ("declared larger than 5 MiB", pictures.url("/huge.png")),
        (
            "streams past 5 MiB without a length",
            pictures.unsized_huge.clone(),
        ),
        ("four redirects", pictures.url("/hops/4")),
        ("answers 404", pictures.url("/gone.png")),
        ("slower than 5 s", pictures.url("/slow.png")),
        ("unreachable", "http://127.0.0.1:1/ada.png".to_owned()),
        ("not http", "file:///etc/passwd".to_owned()),
    ];
    for (why, source) in &refused {
        let user = sign_up_with_picture(&app, &env, &provider, Some(source)).await;
        assert_eq!(
            user["profile_image_url"],
            source.as_str(),
            "{why}: Facebook's URL is kept"
        );
    }
    // The emulator's own default picture is an SVG too.
    let default = sign_up_with_picture(&app, &env, &provider, None).await;
    let url = default["profile_image_url"].as_str().unwrap();
    assert!(url.starts_with(app.sim.url().as_str()), "{url}");

    assert!(
        !avatar_dir(&env).exists(),
        "nothing was stored for this environment"
    );
}

async fn an_unknown_avatar_is_not_found(engine: Engine) {
    let app = spawn_app(engine).await;
    for id in [
        "ava_00000000000000000000000000000000",
        "..%2F..%2Fetc%2Fpasswd",
    ] {
        let response = app
            .client
            .get(app.url(&format!("/v1/avatars/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response, StatusCode::NOT_FOUND).await,
            "avatar_not_found"
        );
    }
}
