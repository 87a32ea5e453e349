//! Every lockfile format and language manifest: the first byte picks
//! which, the rest is its content.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 15] = [
    "/src/Cargo.lock",
    "/src/poetry.lock",
    "/src/uv.lock",
    "/src/package-lock.json",
    "/src/yarn.lock",
    "/src/pnpm-lock.yaml",
    "/src/requirements.txt",
    "/src/Pipfile.lock",
    "/src/go.mod",
    "/src/Gemfile.lock",
    "/src/composer.lock",
    "/usr/lib/node_modules/app/package.json",
    "/usr/lib/python3/dist-packages/app-1.0.dist-info/METADATA",
    "/usr/lib/python3/site-packages/app.egg-info/PKG-INFO",
    "/usr/share/gems/specifications/app-1.0.gemspec",
];

fuzz_target!(|data: &[u8]| {
    let Some((first, content)) = data.split_first() else {
        return;
    };
    let path = NAMES[usize::from(*first) % NAMES.len()];
    let tree = parapet_fuzz::tree_with(&[(path, content)]);
    parapet_fuzz::packages(&tree);
});
