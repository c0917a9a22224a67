//! The README's "Write your own app" shows this app's whole main file and
//! its two images: they must be the files that are built.

const README: &str = include_str!("../../../README.md");

#[test]
fn the_guide_shows_the_app_as_it_is() {
    assert!(
        README.contains(include_str!("../src/lib.rs")),
        "README's copy of apps/todo/src/lib.rs is stale"
    );
}

#[test]
fn the_guide_shows_the_images_as_they_are() {
    let kernel = include_str!("../../../kernel/src/bin/todo.rs");
    let kernel_main = &kernel[kernel.find("#![no_std]").unwrap()..];
    assert!(
        README.contains(kernel_main),
        "README's kernel image is stale"
    );
    let server = include_str!("../../../server/src/bin/todo.rs");
    let server_main = &server[server.find("#![no_std]").unwrap()..];
    assert!(
        README.contains(server_main),
        "README's hosted image is stale"
    );
}
