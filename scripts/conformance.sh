# shellcheck shell=bash disable=SC2034  # its variables are for the scripts that source it
# The conformance corpus (Elastic's Salesforce pipeline fixtures, Elastic License 2.0: used in
# place, never copied into the repository): where it is, the message when it is nowhere, and its
# checksums. Sourced by scripts/test and scripts/fetch-conformance, with ROOT set to the
# workspace. The places and the message are the ones of `ecs::corpus::Places`
# (crates/ecs/src/corpus.rs), which the tests use; crates/ecs/tests/corpus_lookup.rs checks that
# the two agree.
#
# The repository keeps, in tests/conformance/:
# - SOURCE.md: where each file comes from (the elastic/integrations commit and path) and the
#   license notice; it goes beside the fetched files;
# - elastic-salesforce.sha256: the sha256 of every file of the corpus (`sha256sum` format,
#   paths relative to the corpus folder), SOURCE.md included.

CONFORMANCE_VAR=SFEVENTS_CONFORMANCE_DIR
CONFORMANCE_SOURCES=$ROOT/tests/conformance/SOURCE.md
CONFORMANCE_SUMS=$ROOT/tests/conformance/elastic-salesforce.sha256
CONFORMANCE_FETCH=scripts/fetch-conformance
CONFORMANCE_DEFAULT_URL=https://raw.githubusercontent.com/elastic/integrations

# `shared/conformance/elastic-salesforce` beside the workspace.
conformance_beside() {
  printf '%s\n' "$(dirname "$ROOT")/shared/conformance/elastic-salesforce"
}

# The cache's corpus: $XDG_CACHE_HOME/..., else $HOME/.cache/...; nothing when neither is set.
conformance_cache() {
  if [[ -n ${XDG_CACHE_HOME:-} ]]; then
    printf '%s\n' "${XDG_CACHE_HOME%/}/sfevents/conformance/elastic-salesforce"
  elif [[ -n ${HOME:-} ]]; then
    printf '%s\n' "${HOME%/}/.cache/sfevents/conformance/elastic-salesforce"
  fi
}

# Sets CORPUS_DIR and CORPUS_FOUND (variable, beside or cache); fails when no place holds it.
# When SFEVENTS_CONFORMANCE_DIR is set, it is the only place looked at.
conformance_locate() {
  local var=${SFEVENTS_CONFORMANCE_DIR:-} beside cache
  CORPUS_DIR='' CORPUS_FOUND=''
  if [[ -n $var ]]; then
    [[ -d $var ]] || return 1
    CORPUS_DIR=$var CORPUS_FOUND=variable
    return 0
  fi
  beside=$(conformance_beside)
  cache=$(conformance_cache)
  if [[ -d $beside ]]; then
    CORPUS_DIR=$beside CORPUS_FOUND=beside
  elif [[ -n $cache && -d $cache ]]; then
    CORPUS_DIR=$cache CORPUS_FOUND=cache
  else
    return 1
  fi
}

# What is missing, the variable to set and the command that fetches it later (the text of
# `Places::missing`).
conformance_missing() {
  local var=${SFEVENTS_CONFORMANCE_DIR:-} cache
  local fetch="fetch it into the cache (needs the network) with: $CONFORMANCE_FETCH"
  if [[ -n $var ]]; then
    printf '%s\n' "the conformance corpus is missing: $CONFORMANCE_VAR=$var is not a folder (when set, it is the only place looked at)." \
      "Set $CONFORMANCE_VAR to a copy of Elastic's Salesforce pipeline fixtures, or unset it and $fetch"
    return
  fi
  cache=$(conformance_cache)
  if [[ -n $cache ]]; then
    cache="$cache (the cache scripts/test fills): no such folder"
  else
    cache="no cache folder: neither XDG_CACHE_HOME nor HOME is set"
  fi
  printf '%s\n' "the conformance corpus is missing: Elastic's Salesforce pipeline fixtures (Elastic License 2.0, never copied into the repository) are in none of" \
    "  $CONFORMANCE_VAR: not set" \
    "  $(conformance_beside) (beside the workspace): no such folder" \
    "  $cache" \
    "Set $CONFORMANCE_VAR to a copy of the corpus, or $fetch"
}

# The files SOURCE.md's table lists, one a line: corpus path, path under
# packages/salesforce/data_stream/ in elastic/integrations, commit.
conformance_sources() {
  awk -F'|' 'NF >= 6 {
      for (i = 2; i <= 4; i++) gsub(/^[ \t]+|[ \t]+$/, "", $i)
      if (length($4) == 40 && $4 ~ /^[0-9a-f]+$/) print $2, $3, $4
    }' "$CONFORMANCE_SOURCES"
}

# Checks DIR against the checksum list: every listed file with its sha256, and no other file.
# Prints the first problem and fails.
conformance_verify() {
  local dir=$1 sum path got listed
  while read -r sum path; do
    if [[ ! -f $dir/$path ]]; then
      echo "$dir/$path is missing" >&2
      return 1
    fi
    got=$(sha256sum "$dir/$path" | cut -d' ' -f1)
    if [[ $got != "$sum" ]]; then
      echo "$dir/$path has sha256 $got; $CONFORMANCE_SUMS says $sum" >&2
      return 1
    fi
  done <"$CONFORMANCE_SUMS"
  listed=$(cut -d' ' -f3- "$CONFORMANCE_SUMS" | LC_ALL=C sort)
  if [[ $(cd "$dir" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) != "$listed" ]]; then
    echo "$dir holds files that $CONFORMANCE_SUMS does not list" >&2
    return 1
  fi
}
