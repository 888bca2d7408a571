"""The offender's ordinary lines: first contact, rapport, fake-peer introductions, backing off.

These carry no category on their own. Many are exactly what a friendly peer would write, which
is the point: the model has to learn from the signs, not from who is talking.
"""

from __future__ import annotations

FIRST_CONTACT: tuple[str, ...] = (
    "[hey|hi|hii|heyy|yo] [there|]",
    "gg[ that was close| wp|]",
    "[nice|sick|cool] build[!|]",
    "[ur|you're] [really|so] good at {game}",
    "[wanna|want to] team up[ next round|]?",
    "[hey|hi] {victim}[!|]",
    "[saw|found] your [profile|post|vid] [on {game}|about {game}|], [so cool|nice]",
    "[hey|hi] [i'm|im] {me}",
    "[hi|hey] [sorry|] random [dm|message] [lol|]",
    "[hey|hi] [we|u] [were|was] on the same team [earlier|yesterday]",
    "[nice|great] [shot|play|moves] [earlier|last round]",
    "[hey|hi] [i think|] we have [mutuals|mutual friends|a friend in common]",
    "[love|like] your [username|avatar|skin|profile pic]",
    "[hey|hi], [you|u] play {game} right?",
    "[how's|hows] it going {victim}",
)
FAKE_PEER: tuple[str, ...] = (
    "[i'm|im] {fake_age} [btw|too|]",
    "[i'm|im] {me}, {fake_age}, [from|in] {city}",
    "[i'm|im] [in|at] {grade} grade [too|as well]",
    "[lol|haha] [i'm|im] {fake_age}, [my|] parents [are|r] so annoying [too|]",
    "[we're|were] [basically|probably] the same age",
    "[i|I] [just|] moved to {city}[, don't know anyone yet|]",
    "[i|I] [go to|am at] a school [near|in] {city}",
    "[i'm|im] [a|] {fake_age} [yo|y/o] [girl|guy] from {city}",
    "[my|] friend {friend} [said|told me] [you're|ur] [cool|nice]",
)
RAPPORT: tuple[str, ...] = (
    "[what|wat] [are you|r u] [up to|doing] [rn|tonight|today]",
    "[how was|hows] [school|your day][?|]",
    "[same|me too] [lol|haha|]",
    "[lol|haha] [that's|thats] [so|] [funny|true]",
    "[what|wat] [games|music] [do you|d u] [like|play][?|]",
    "[i|I] [love|like] {artist} [too|as well]",
    "[my|] day was [so|] [boring|long] [lol|]",
    "[you|u] [seem|are] [cool|fun|nice]",
    "[do you|d u] [like|play] {game}[?|]",
    "[what's|whats] your [fav|favourite] [game|song|show][?|]",
    "[i|I] [get|understand] that",
    "[that|it] [sucks|sounds hard], [sorry|i'm sorry]",
    "[haha|lol] [you're|ur] funny",
    "[i|I] [had|have] [a rough|a long|the worst] day",
    "[tell me|talk to me] about [it|your day]",
    "[did you|have you] [finish|finished] [your|] homework[?|]",
    "[gn|goodnight] {victim}",
    "[morning|good morning] {victim}",
)
BACKOFF: tuple[str, ...] = (
    "[ok|okay] no worries",
    "[fair enough|fair] [lol|haha|]",
    "all good[, maybe later|]",
    "[np|no problem][, maybe later|]",
    "[ok ok|alright] [lol|haha|]",
    "[that's|thats] fine[ :)|]",
    "[sorry|my bad] [if that was weird|]",
    "[no|] pressure[ ofc|]",
)
SEXTORTION_TURN: tuple[str, ...] = (
    "[look|check] what [i have|i saved|i've got]",
    "[i|I] [screenshotted|recorded|saved] [everything|our chats|the call]",
    "[you|u] [shouldn't|should not] have [sent that|trusted me]",
    "[now|ok now] [listen|listen carefully]",
    "[guess|remember] what [i have|you sent]",
    "[i|I] [know|found] who your [friends|followers|family] are",
)
COUNTDOWN: tuple[str, ...] = (
    "{minutes} [minutes|mins] left",
    "[tick tock|clock's ticking]",
    "[i'm|im] waiting",
    "[hurry|hurry up]",
    "[times|time's] almost up",
    "[last|final] chance",
    "[answer|reply] me",
    "[?|??|???]",
    "[hello|helo]??",
    "[don't|dont] ignore me",
)
PRESSURE_OPENERS: tuple[str, ...] = (
    "come on",
    "please",
    "just this once",
    "it's no big deal",
    "don't be like that",
    "why not",
)
