# Sourced by ./mvnw and ./pagoda (POSIX sh). Pagoda needs JDK 25 (Vector API, FFM); many machines
# have an older default `java` with a JDK 25 installed beside it. This picks the first JDK >= 25 from
# JAVA_HOME, the `java` on PATH, then the usual install folders, and exports JAVA_HOME and PATH.
# With none, it names what to install and exits with status 2.

pagoda_java_feature() { # $1 = a JDK home; prints its feature version (25 for 25.0.1), or nothing
  if [ -f "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" | head -n 1
  elif [ -x "$1/bin/java" ]; then
    "$1/bin/java" -XshowSettings:properties -version 2>&1 \
      | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n 1
  fi
}

pagoda_select_jdk25() {
  pagoda_seen=""
  pagoda_path_home=""
  if command -v java >/dev/null 2>&1; then
    pagoda_path_java=$(command -v java)
    pagoda_path_java=$(readlink -f "$pagoda_path_java" 2>/dev/null || echo "$pagoda_path_java")
    pagoda_path_home=$(dirname "$(dirname "$pagoda_path_java")")
  fi
  # PAGODA_JDK_SEARCH (folders holding JDKs, space-separated) replaces the usual ones; tests use it.
  pagoda_dirs=${PAGODA_JDK_SEARCH:-"/usr/lib/jvm $HOME/.jdks $HOME/.sdkman/candidates/java /opt/java /usr/java /Library/Java/JavaVirtualMachines"}
  pagoda_cands=""
  for pagoda_d in $pagoda_dirs; do
    for pagoda_h in "$pagoda_d"/* "$pagoda_d"/*/Contents/Home; do
      [ -d "$pagoda_h" ] && pagoda_cands="$pagoda_cands $pagoda_h"
    done
  done
  # Folder names hold no spaces in these places; word splitting of the list below relies on it.
  for pagoda_home in "${JAVA_HOME:-}" "$pagoda_path_home" $pagoda_cands; do
    [ -n "$pagoda_home" ] && [ -x "$pagoda_home/bin/java" ] && [ -x "$pagoda_home/bin/javac" ] || continue
    pagoda_v=$(pagoda_java_feature "$pagoda_home")
    [ -n "$pagoda_v" ] || continue
    if [ "$pagoda_v" -ge 25 ] 2>/dev/null; then
      if [ -n "${JAVA_HOME:-}" ] && [ "$pagoda_home" != "$JAVA_HOME" ]; then
        echo "pagoda: JAVA_HOME ($JAVA_HOME) is not a JDK 25; using $pagoda_home" >&2
      fi
      JAVA_HOME="$pagoda_home"
      PATH="$JAVA_HOME/bin:$PATH"
      export JAVA_HOME PATH
      return 0
    fi
    pagoda_seen="$pagoda_seen
  JDK $pagoda_v at $pagoda_home"
  done
  echo "pagoda: needs a JDK 25 or newer (Vector API, FFM); none found in JAVA_HOME, on PATH" >&2
  echo "  or in $pagoda_dirs.${pagoda_seen:+ Found only:$pagoda_seen}" >&2
  echo "  Install one, e.g. Eclipse Temurin 25 (https://adoptium.net; Debian/Ubuntu: the Adoptium apt" >&2
  echo "  repository's temurin-25-jdk package), or set JAVA_HOME to a JDK 25." >&2
  exit 2
}

pagoda_select_jdk25
