//! Media types by file extension, for serving static files.

/// Served when the extension is unknown or missing.
pub const DEFAULT_MIME: &str = "application/octet-stream";

const TEXT_HTML: &str = "text/html; charset=utf-8";
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const TEXT_C: &str = "text/x-c; charset=utf-8";
const JPEG: &str = "image/jpeg";
const TIFF: &str = "image/tiff";
const JS: &str = "text/javascript; charset=utf-8";

/// Extension (lower case) to media type. Text types carry `charset=utf-8`.
pub const MIME_TYPES: &[(&str, &str)] = &[
    ("html", TEXT_HTML),
    ("htm", TEXT_HTML),
    ("css", "text/css; charset=utf-8"),
    ("js", JS),
    ("mjs", JS),
    ("json", "application/json"),
    ("map", "application/json"),
    ("webmanifest", "application/manifest+json"),
    ("txt", TEXT_PLAIN),
    ("text", TEXT_PLAIN),
    ("log", TEXT_PLAIN),
    ("xml", "application/xml"),
    ("csv", "text/csv; charset=utf-8"),
    ("md", "text/markdown; charset=utf-8"),
    ("ics", "text/calendar; charset=utf-8"),
    ("png", "image/png"),
    ("jpg", JPEG),
    ("jpeg", JPEG),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("svg", "image/svg+xml"),
    ("ico", "image/x-icon"),
    ("bmp", "image/bmp"),
    ("tif", TIFF),
    ("tiff", TIFF),
    ("avif", "image/avif"),
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/opus"),
    ("flac", "audio/flac"),
    ("aac", "audio/aac"),
    ("m4a", "audio/mp4"),
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("webm", "video/webm"),
    ("ogv", "video/ogg"),
    ("mkv", "video/x-matroska"),
    ("avi", "video/x-msvideo"),
    ("mov", "video/quicktime"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tgz", "application/gzip"),
    ("tar", "application/x-tar"),
    ("bz2", "application/x-bzip2"),
    ("xz", "application/x-xz"),
    ("zst", "application/zstd"),
    ("7z", "application/x-7z-compressed"),
    ("wasm", "application/wasm"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("eot", "application/vnd.ms-fontobject"),
    ("rtf", "application/rtf"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("epub", "application/epub+zip"),
    ("sh", "text/x-shellscript; charset=utf-8"),
    ("py", "text/x-python; charset=utf-8"),
    ("rs", "text/x-rust; charset=utf-8"),
    ("c", TEXT_C),
    ("h", TEXT_C),
    ("toml", "application/toml"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
];

/// Longest extension in [`MIME_TYPES`].
const MAX_EXT: usize = 11;

/// The media type for a path by its extension (ASCII case-insensitive,
/// taken from the last path segment); [`DEFAULT_MIME`] if unknown.
pub fn mime_for_path(path: &str) -> &'static str {
    let segment = path.rsplit('/').next().unwrap_or(path);
    let Some((_, ext)) = segment.rsplit_once('.') else {
        return DEFAULT_MIME;
    };
    if ext.is_empty() || ext.len() > MAX_EXT {
        return DEFAULT_MIME;
    }
    MIME_TYPES
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map_or(DEFAULT_MIME, |&(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sane() {
        assert!(MIME_TYPES.len() >= 48);
        for (i, (e, m)) in MIME_TYPES.iter().enumerate() {
            assert!(e.len() <= MAX_EXT && !e.is_empty());
            assert_eq!(e.to_ascii_lowercase(), *e);
            assert!(m.contains('/'));
            if m.starts_with("text/") {
                assert!(m.ends_with("; charset=utf-8"), "{m}");
            }
            assert!(MIME_TYPES[..i].iter().all(|(o, _)| o != e), "duplicate {e}");
        }
        for e in "html htm css js mjs json txt xml csv md png jpg jpeg gif webp svg ico bmp tif tiff avif mp3 wav ogg flac m4a mp4 webm mkv avi mov pdf zip gz tar bz2 xz 7z wasm woff woff2 ttf otf eot rtf doc docx xls xlsx ppt pptx epub sh py rs c h toml yaml".split(' ') {
            assert_ne!(mime_for_path(&format!("/f.{e}")), DEFAULT_MIME, "{e}");
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(mime_for_path("/index.html"), "text/html; charset=utf-8");
        assert_eq!(mime_for_path("INDEX.HTM"), "text/html; charset=utf-8");
        assert_eq!(
            mime_for_path("/a/b.c/app.JS"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(mime_for_path("/img/photo.JpEg"), "image/jpeg");
        assert_eq!(mime_for_path("/x.tar.gz"), "application/gzip");
        assert_eq!(mime_for_path("/font.woff2"), "font/woff2");
        assert_eq!(mime_for_path("/style.css"), "text/css; charset=utf-8");
        assert_eq!(mime_for_path("/a.json"), "application/json");
    }

    #[test]
    fn defaults() {
        for p in [
            "",
            "/",
            "/README",
            "/dir.d/file",
            "/file.",
            "/x.unknown",
            "/x.averyveryverylongext",
            ".",
            "/x.é",
        ] {
            assert_eq!(mime_for_path(p), DEFAULT_MIME, "{p}");
        }
    }
}
