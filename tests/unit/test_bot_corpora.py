"""The bot filter against public corpora (tests/bot_corpora.py says where each comes from):
recall on every bot corpus, false positives on every real-browser corpus, with the issue's
thresholds. A miss or a false positive is reported with the rule that decided it."""

from __future__ import annotations

import pytest
from newsdesk import bots

from tests import bot_corpora
from tests.bot_corpora import NOT_READERS, Corpus

MIN_RECALL = 0.99  # of each bot corpus
MAX_FALSE_POSITIVES_WEIGHTED = 0.0001  # 0.01% of real-browser traffic
MAX_FALSE_POSITIVES = 0.001  # 0.1% of distinct real-browser strings


@pytest.fixture(scope="module")
def npm_browsers() -> Corpus:
    """npm `user-agents`, fetched once into .local/corpora (npm must be installed: `make
    test` installs it; CI reaches the npm registry)."""
    return bot_corpora.npm_user_agents()


def _report(uas: list[str]) -> str:
    return "\n".join(f"  {bots.explain(ua)!s:40.40} {ua[:150]}" for ua in uas[:40])


@pytest.mark.parametrize("load", [bot_corpora.crawler_user_agents, bot_corpora.isbot_crawlers])
def test_each_bot_corpus_is_recalled(load: object) -> None:
    corpus = load()  # type: ignore[operator]
    missed = [ua for ua in corpus.weights if not bots.is_bot(ua)]
    recall = 1 - len(missed) / len(corpus.weights)
    assert len(corpus.weights) > 500, corpus.name
    assert recall >= MIN_RECALL, f"{corpus.name}: recall {recall:.2%}; missed:\n{_report(missed)}"


def _false_positives(corpus: Corpus) -> tuple[list[str], float, float]:
    flagged = [ua for ua in corpus.weights if bots.is_bot(ua)]
    weighted = sum(corpus.weights[ua] for ua in flagged) / sum(corpus.weights.values())
    return flagged, weighted, len(flagged) / len(corpus.weights)


def test_real_browsers_weighted_by_traffic_are_readers(npm_browsers: Corpus) -> None:
    flagged, weighted, share = _false_positives(npm_browsers)
    assert len(npm_browsers.weights) > 500 and npm_browsers.weighted
    assert weighted <= MAX_FALSE_POSITIVES_WEIGHTED, (
        f"{weighted:.4%} of traffic:\n{_report(flagged)}"
    )
    assert share <= MAX_FALSE_POSITIVES, f"{share:.3%} of strings:\n{_report(flagged)}"


def test_isbots_real_browsers_are_readers() -> None:
    corpus = bot_corpora.isbot_browsers()
    flagged, _, share = _false_positives(corpus)
    assert len(corpus.weights) > 400
    assert share <= MAX_FALSE_POSITIVES, f"{share:.3%} of strings:\n{_report(flagged)}"


def test_the_browsers_corpus_entries_set_aside_are_there_and_are_not_counted() -> None:
    """NOT_READERS cannot go stale: each entry is in isbot's browsers.yml as copied, and is
    still refused (if one became countable, it belongs back in the corpus)."""
    every = bot_corpora.isbot_browsers(include_not_readers=True).weights
    for ua, reason in NOT_READERS.items():
        assert ua in every, f"not in browsers.yml any more: {ua}"
        assert bots.is_bot(ua), f"counted, though set aside as {reason!r}: {ua}"


def test_every_pattern_of_the_pinned_lists_is_matched() -> None:
    """A version bump that brings a pattern the matcher cannot take fails here, not in
    production: every rule is either a finite set of strings for the automaton or compiles
    in RE2, and those few stay few (each runs only behind its required literal)."""
    import re2

    matcher = bots._matcher()
    for rule in matcher.residual_rules:
        re2.compile(rule.pattern)
    assert len(matcher.residual_rules) <= 30, [r.pattern for r in matcher.residual_rules]
    assert matcher.residual.search("Java/1.8 outbrain") is not None


def _every_user_agent() -> list[str]:
    corpora = [bot_corpora.crawler_user_agents(), bot_corpora.isbot_crawlers()]
    corpora += [bot_corpora.isbot_browsers(include_not_readers=True)]
    corpora += [bot_corpora.npm_user_agents()]
    return sorted({ua.strip() for corpus in corpora for ua in corpus.weights} - {""})


def test_the_shipped_strings_match_where_the_lists_regular_expressions_do() -> None:
    """The build-time expansion (scripts/bot_lists.py) is faithful on every User-Agent of the
    corpora: for each rule of the pinned lists, one of the strings shipped for it occurs in
    the User-Agent (lower-cased, anchors as sentinels) exactly when the rule's own regular
    expression matches it, case-insensitively as the automaton applies it (RE2, all rules in
    one pass); a rule left to RE2 has its gate string wherever it matches. Deterministic:
    the pinned lists against the fixed corpora."""
    import ahocorasick_rs
    import re2

    from scripts import bot_lists

    rules, _ = bot_lists.rules()
    expanded = [bot_lists.expand(rule.pattern, ignore_case=True) for rule in rules]
    gates = [
        bot_lists.expand(bot_lists.required_literal(rule.pattern), ignore_case=True) or []
        for rule in rules
    ]
    owners: dict[str, set[int]] = {}
    for n, words in enumerate(expanded):
        for word in words or gates[n]:
            owners.setdefault(word, set()).add(n)
    automaton = ahocorasick_rs.AhoCorasick(list(owners))
    regexes = re2.Set.SearchSet(re2.Options())
    for rule, words in zip(rules, expanded, strict=True):
        case = "(?i)" if words is not None or rule.ignore_case else ""
        regexes.Add(case + rule.pattern)
    regexes.Compile()
    finite = {n for n, words in enumerate(expanded) if words is not None}
    uas = _every_user_agent()
    assert len(uas) > 3000 and len(finite) > 2000
    wrong = []
    for ua in uas:
        text = bots._START + ua.lower() + bots._END
        found = {
            n for w in automaton.find_matches_as_strings(text, overlapping=True) for n in owners[w]
        }
        matched = set(regexes.Match(ua) or ())
        if (found & finite) != (matched & finite) or not (matched - finite) <= found:
            wrong.append((ua, sorted(rules[n].pattern for n in found ^ matched)))
    assert not wrong, wrong[:10]
