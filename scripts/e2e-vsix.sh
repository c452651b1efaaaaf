# Sourced by the e2e runners: sets VSIX (in $HOST_DIR) and packages the extension into it, unless
# E2E_REUSE_VSIX is set and one is there. Needs ROOT, HOST_DIR and a test-results folder.
VSIX="$HOST_DIR/discretion-e2e.vsix"
if [ -n "${E2E_REUSE_VSIX:-}" ] && [ -f "$VSIX" ]; then
  echo "e2e: reusing $VSIX (E2E_REUSE_VSIX is set: not rebuilt)"
else
  VSIX_OUT="$VSIX" node "$ROOT/scripts/package-vsix.mjs" > test-results/e2e-package.log 2>&1 || { cat test-results/e2e-package.log; exit 1; }
  tail -1 test-results/e2e-package.log
fi
