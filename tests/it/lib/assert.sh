# Small assertions for the integration tests; each names what it expected.
assert_eq() {
  if [ "$1" != "$2" ]; then
    echo "FAIL: expected '$2', got '$1'${3:+ ($3)}" >&2; exit 1
  fi
}
assert_contains() {
  case "$1" in
    *"$2"*) ;;
    *) printf 'FAIL: expected to find: %s\n--- in:\n%s\n---\n' "$2" "$1" >&2; exit 1 ;;
  esac
}
assert_not_contains() {
  case "$1" in
    *"$2"*) printf 'FAIL: did not expect: %s\n--- in:\n%s\n---\n' "$2" "$1" >&2; exit 1 ;;
  esac
}
