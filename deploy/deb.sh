#!/usr/bin/env bash
# Builds the Debian package (target/debian/picket_VERSION_ARCH.deb) with cargo-deb
# (`cargo install cargo-deb --locked`): the binary, the systemd units, the config, the
# manual page and shell completions, the last two made by the binary from its clap
# definitions. PICKET_BIN=path packs an already built binary instead of building one;
# arguments go to cargo deb (--fast: quicker compression, a larger file).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PICKET_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release -p picket
  bin="${CARGO_TARGET_DIR:-target}/release/picket"
fi
stage=target/deb-stage
rm -rf "$stage"
mkdir -p "$stage" target/debian
cp "$bin" "$stage/picket"
"$bin" man | gzip -9n >"$stage/picket.1.gz"
"$bin" completions bash >"$stage/picket.bash"
"$bin" completions zsh >"$stage/_picket"
"$bin" completions fish >"$stage/picket.fish"
# The package installs the binary as /usr/bin/picket (deploy/ says /usr/local/bin).
sed 's|/usr/local/bin/picket|/usr/bin/picket|g' deploy/picket.service >"$stage/picket.service"
cargo deb -p picket --no-build --no-strip --output target/debian/ "$@"
