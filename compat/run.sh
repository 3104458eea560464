#!/usr/bin/env bash
# Compatibility matrix: the one built package (dist/esm + dist/cjs, packed with `npm pack`) against
# the real OpenTelemetry JS packages of each line it supports, installed from the npm registry into
# throwaway projects. For each line:
#   install   the OTel packages, then the tarball: npm 11 fails on a peerDependencies conflict,
#             and `npm ls --all` must find no invalid or missing package
#   types     a TypeScript consumer (otel2-types.ts / otel3-types.ts) compiled as .mts and .cts
#             with skipLibCheck false, so our .d.ts files are checked against that line's types
#   nodeN     otel2-smoke.mjs (import) and otel2-smoke.cjs (require) on each Node major: a real
#             LoggerProvider and tracer provider, our processors, the repo's fake capture server
# Then the README's own lines, as a user copies them (compat/readme.mjs reads them from README.md):
#   readme-otel3, readme-otel2   the install line of each OpenTelemetry line, run as written in a
#             fresh project (the package name replaced by the tarball), then that line's quick start
#             run as a script that ends without shutdown (compat/readme-quick-start.mjs)
#   readme-nextjs  the Next.js guide's install line, then examples/nextjs/*.ts type-checked against
#             @vercel/otel as Next.js compiles them (bundler resolution)
# Prints a table and exits non-zero when any check fails. Needs only npm registry access (and the
# repository's node_modules for the build; it runs `npm ci` in its copy when they are missing).
#
# Usage: bash compat/run.sh
#   COMPAT_NODE_VERSIONS="22 24"  Node majors of the smoke runs (from the registry, as in .ci/run)
#   COMPAT_KEEP=1                 keep the work directory (projects and logs) for inspection
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMPAT=$REPO/compat
read -r -a NODE_MAJORS <<<"${COMPAT_NODE_VERSIONS:-22 24}"

# The README's lines (see the header); each name is also the install line's name in compat/readme.mjs.
README_LINES=(otel3 otel2 nextjs)

# Each line: name|tracer package|packages to install (npm specs, space-separated).
# The *-min lines are the lower bounds of package.json#peerDependencies: keep the two in step.
LINES=(
  "otel2-min|sdk-trace-base|@opentelemetry/api@1.9.0 @opentelemetry/core@2.0.0 @opentelemetry/resources@2.0.0 @opentelemetry/sdk-logs@0.220.0 @opentelemetry/sdk-trace-base@2.0.0"
  "otel2|sdk-trace-base|@opentelemetry/api@~1.9.0 @opentelemetry/core@^2.0.0 @opentelemetry/resources@^2.0.0 @opentelemetry/sdk-logs@<0.300.0 @opentelemetry/sdk-trace-base@^2.0.0"
  "otel3-min|sdk-trace|@opentelemetry/api@1.10.0 @opentelemetry/core@3.1.0 @opentelemetry/resources@3.1.0 @opentelemetry/sdk-logs@3.1.0 @opentelemetry/sdk-trace@3.1.0"
  "otel3|sdk-trace|@opentelemetry/api@~1.10.0 @opentelemetry/core@^3.1.0 @opentelemetry/resources@^3.1.0 @opentelemetry/sdk-logs@^3.1.0 @opentelemetry/sdk-trace@^3.1.0"
)
TYPES_NODE=@types/node@^22
NPM_FLAGS=(--no-audit --no-fund --no-update-notifier)

# Our variables and OpenTelemetry's would change what the smoke sees.
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(POSTHOG_|OTEL_)' || true)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/posthog-otel-compat.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n "${COMPAT_KEEP:-}" ]]; then echo "compat: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
mkdir -p "$WORK/logs" "$WORK/results"

# check KEY CMD...: runs CMD with its output appended to logs/KEY.log; records ok or FAIL in results/KEY.
check() {
  local key=$1; shift
  if "$@" >>"$WORK/logs/$key.log" 2>&1; then echo ok >"$WORK/results/$key"; else echo FAIL >"$WORK/results/$key"; return 1; fi
}
result() { cat "$WORK/results/$1" 2>/dev/null || echo skip; }
version_of() { node -p 'require(process.argv[1]).version' "$1/node_modules/$2/package.json" 2>/dev/null || echo '-'; }

# --- what every line needs: Node binaries, tsc, the fake server ------------------------------------
declare -A NODE_BIN=()
for major in "${NODE_MAJORS[@]}"; do
  NODE_BIN[$major]=$(cd "$WORK" && npx --yes --package "node@${major}" -- node -p process.execPath 2>/dev/null) \
    || { echo "compat: could not get node@${major} from the registry" >&2; exit 1; }
done
PKG=$WORK/pkg
mkdir -p "$PKG"
(cd "$REPO" && cp -R src scripts package.json package-lock.json tsconfig.json tsconfig.build.json tsconfig.cjs.json README.md LICENSE CHANGELOG.md "$PKG/")
if [[ -d "$REPO/node_modules/typescript" ]]; then
  ln -s "$REPO/node_modules" "$PKG/node_modules"
else
  echo "== compat: npm ci (the repository has no node_modules)"
  (cd "$PKG" && npm ci "${NPM_FLAGS[@]}" >"$WORK/logs/npm-ci.log" 2>&1) || { cat "$WORK/logs/npm-ci.log"; exit 1; }
fi
TSC=$PKG/node_modules/typescript/bin/tsc
FAKE_SERVER_MODULE=$(node -p 'require("node:url").pathToFileURL(process.argv[1]).href' "$REPO/test/support/fake-capture-server.ts")
export FAKE_SERVER_MODULE

# --- one line: install, type-check, smoke --------------------------------------------------------
# The OTel packages first, then ours once it is packed, as a user adds it to a project with OpenTelemetry.
install_line() (
  local dir=$1; shift
  cd "$dir"
  npm init -y >/dev/null
  npm install "${NPM_FLAGS[@]}" --save-exact "$@" "$TYPES_NODE"
  until [[ -e $WORK/packed ]]; do sleep 0.2; done
  local tarball
  tarball=$(cat "$WORK/packed")
  [[ -n $tarball ]] || { echo "no tarball: the build failed"; exit 1; }
  npm install "${NPM_FLAGS[@]}" "$tarball"
  npm ls --all
)

typecheck_line() (
  local dir=$1 source=$2
  cd "$dir"
  cp "$source" types-esm.mts
  cp "$source" types-cjs.cts
  cat >tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "module": "nodenext", "moduleResolution": "nodenext", "target": "ES2022", "lib": ["ES2023"],
    "types": ["node"], "strict": true, "noEmit": true, "skipLibCheck": false
  },
  "files": ["types-esm.mts", "types-cjs.cts"]
}
JSON
  node "$TSC" -p .
)

smoke() (
  cd "$1"
  "$2" "$3"
)

# The README's install line NAME, as written, in a fresh project: the tarball stands for the package.
readme_install() (
  local dir=$1 name=$2 spec specs=()
  cd "$dir"
  npm init -y >/dev/null
  until [[ -e $WORK/packed ]]; do sleep 0.2; done
  local tarball
  tarball=$(cat "$WORK/packed")
  [[ -n $tarball ]] || { echo "no tarball: the build failed"; exit 1; }
  while read -r spec; do
    if [[ $spec == opentelemetry-exporter-posthog ]]; then specs+=("$tarball"); else specs+=("$spec"); fi
  done < <(node "$COMPAT/readme.mjs" install "$name")
  [[ " ${specs[*]} " == *" $tarball "* ]] || { echo "the README's $name install line does not install opentelemetry-exporter-posthog"; exit 1; }
  echo "npm install ${specs[*]}"
  npm install "${NPM_FLAGS[@]}" "${specs[@]}"
  npm ls --all
)

# examples/nextjs/*.ts as Next.js compiles them (bundler resolution), against @vercel/otel.
typecheck_nextjs() (
  cd "$1"
  npm install "${NPM_FLAGS[@]}" --no-save "$TYPES_NODE"
  cp "$REPO"/examples/nextjs/*.ts .
  cat >tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "module": "esnext", "moduleResolution": "bundler", "target": "ES2022", "lib": ["ES2023"],
    "types": ["node"], "strict": true, "noEmit": true, "isolatedModules": true, "skipLibCheck": true
  },
  "include": ["*.ts"]
}
JSON
  node "$TSC" -p .
)

run_readme_line() {
  local name=$1 dir=$WORK/readme-$1
  mkdir -p "$dir"
  check "readme-$name.install" readme_install "$dir" "$name" || return 0
  if [[ $name == nextjs ]]; then
    check "readme-$name.check" typecheck_nextjs "$dir" || true
  else
    node "$COMPAT/readme.mjs" quick-start "$name" >"$dir/quick-start.mjs"
    cp "$COMPAT/readme-quick-start.mjs" "$dir/"
    check "readme-$name.check" smoke "$dir" "${NODE_BIN[${NODE_MAJORS[0]}]}" readme-quick-start.mjs || true
  fi
}

# Every check of one line, in order; a failed install skips the rest of the line.
run_line() {
  local name=$1 tracer=$2 dir=$WORK/$1; shift 2
  mkdir -p "$dir"
  check "$name.install" install_line "$dir" "$@" || return 0
  cp "$COMPAT/otel2-smoke.mjs" "$COMPAT/otel2-smoke.cjs" "$COMPAT/smoke-scenario.cjs" "$dir/"
  local types_source=$COMPAT/otel2-types.ts
  if [[ $tracer == sdk-trace ]]; then types_source=$COMPAT/otel3-types.ts; fi
  check "$name.types" typecheck_line "$dir" "$types_source" || true
  for major in "${NODE_MAJORS[@]}"; do
    check "$name.node$major-esm" smoke "$dir" "${NODE_BIN[$major]}" otel2-smoke.mjs || true
    check "$name.node$major-cjs" smoke "$dir" "${NODE_BIN[$major]}" otel2-smoke.cjs || true
  done
}

# The lines run side by side (registry round-trips dominate), while the package builds.
echo "== compat: ${#LINES[@]} lines: install from the registry, type-check, smoke on Node ${NODE_MAJORS[*]}"
for entry in "${LINES[@]}"; do
  IFS='|' read -r name tracer specs <<<"$entry"
  read -r -a spec_list <<<"$specs"
  run_line "$name" "$tracer" "${spec_list[@]}" &
  PIDS+=($!)
done
for name in "${README_LINES[@]}"; do
  run_readme_line "$name" &
  PIDS+=($!)
done

# --- build and pack, from a copy so that the work tree's dist/ is left alone -----------------------
echo "== compat: build and pack ($(node --version))"
if (cd "$PKG" && npm run build && npm pack --pack-destination "$WORK") >"$WORK/logs/build.log" 2>&1; then
  TARBALL=$(ls "$WORK"/opentelemetry-exporter-posthog-*.tgz)
  echo "$TARBALL" >"$WORK/packed.tmp"
  mv "$WORK/packed.tmp" "$WORK/packed"
else
  : >"$WORK/packed"
  for pid in "${PIDS[@]}"; do wait "$pid" || true; done
  PIDS=()
  cat "$WORK/logs/build.log"
  echo "compat: the build failed"
  exit 1
fi
for pid in "${PIDS[@]}"; do wait "$pid" || true; done
PIDS=()

# --- the table -----------------------------------------------------------------------------------
echo
echo "== compat results: $(basename "$TARBALL" .tgz) against the real OpenTelemetry packages"
header=$(printf '%-10s %-7s %-7s %-9s %-8s %-21s %-7s %-5s' line api core resources sdk-logs tracer install types)
for major in "${NODE_MAJORS[@]}"; do header+=$(printf ' %-11s %-11s' "node$major-esm" "node$major-cjs"); done
echo "$header"
for entry in "${LINES[@]}"; do
  IFS='|' read -r name tracer specs <<<"$entry"
  dir=$WORK/$name
  row=$(printf '%-10s %-7s %-7s %-9s %-8s %-21s %-7s %-5s' "$name" \
    "$(version_of "$dir" @opentelemetry/api)" "$(version_of "$dir" @opentelemetry/core)" \
    "$(version_of "$dir" @opentelemetry/resources)" "$(version_of "$dir" @opentelemetry/sdk-logs)" \
    "$tracer $(version_of "$dir" "@opentelemetry/$tracer")" "$(result "$name.install")" "$(result "$name.types")")
  for major in "${NODE_MAJORS[@]}"; do row+=$(printf ' %-11s %-11s' "$(result "$name.node$major-esm")" "$(result "$name.node$major-cjs")"); done
  echo "$row"
done
echo "node: $(for major in "${NODE_MAJORS[@]}"; do printf '%s ' "$("${NODE_BIN[$major]}" --version)"; done)"
echo
printf '%-15s %-7s %s\n' 'README line' install 'quick start (otel3, otel2) / types (nextjs)'
for name in "${README_LINES[@]}"; do
  printf '%-15s %-7s %s\n' "readme-$name" "$(result "readme-$name.install")" "$(result "readme-$name.check")"
done

PASSED=0
FAILED=0
KEYS=()
for entry in "${LINES[@]}"; do
  name=${entry%%|*}
  KEYS+=("$name.install" "$name.types")
  for major in "${NODE_MAJORS[@]}"; do KEYS+=("$name.node$major-esm" "$name.node$major-cjs"); done
done
for name in "${README_LINES[@]}"; do KEYS+=("readme-$name.install" "readme-$name.check"); done
for key in "${KEYS[@]}"; do
  case $(result "$key") in
    ok) PASSED=$((PASSED + 1)) ;;
    skip) ;;
    *)
      FAILED=$((FAILED + 1))
      echo
      echo "---- $key (last 60 lines of $WORK/logs/$key.log)"
      tail -n 60 "$WORK/logs/$key.log"
      ;;
  esac
done
echo
if ((FAILED > 0)); then
  echo "compat: $FAILED of $((PASSED + FAILED)) checks FAILED (${SECONDS}s)"
  exit 1
fi
echo "compat: all $PASSED checks ok (${SECONDS}s)"
