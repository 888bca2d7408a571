"""Platform migration: pushing to another app, a private server or a phone number."""

from __future__ import annotations

from grooming_risk.data.synth.phrases.bank import CategoryBank

BANK = CategoryBank(
    category="platform_migration",
    openers=("btw", "easier if", "this app sucks", "quick thing", "before i forget", "actually"),
    cores=(
        "[add me|hmu|message me|text me] on {app}",
        "[do|d] you have {app}[?|]",
        "[let's|lets] [move|switch|go] to {app}[, it's more private|, it's easier|]",
        "[what's|whats] your {app}[?|]",
        "[dm|message] me [instead|privately|in private]",
        "[can i|could i] [get|have] your number[?|]",
        "[text|call] me [at|on] {phone}",
        "[this|] chat [is|gets] [monitored|moderated|watched], [come to|let's use] {app}",
        "[join|come to] my [private|] [server|discord|group]",
        "[download|get] {app} so we can talk [more|properly|better]",
        "my {app} is {handle}",
        "[it's|its] [easier|better] to talk on {app}",
        "i'll send you [an invite|a link|my code] [to|on] {app}",
        "[are you|r u] on {app}[? let's talk there|? add me|?]",
        "we can [video call|voice chat|talk properly] on {app}",
        "[let's|lets] [take|continue] this [to|on] {app}",
        "[the mods|people] [read|can see] [these|our] [messages|chats] here",
        "[make|create] a {app} [account|] [just for us|so we can talk]",
        "[switch|go] to [a private|] [voice|call] [later|tonight][?|]",
        "[my|] [username|tag|handle] on {app} is {handle}",
        "[send|give] me your {app} [and i'll add you|]",
        "[i'm|im] [way|] more active on {app}",
        "[come|hop] [on|to] {app}, [i'll|ill] explain there",
        "[this game's|the] chat [filter|censor] [is so annoying|blocks everything], [use|let's go to] {app}",
        "[add|find] me: {handle} on {app}",
        "[i|I] [can't|cant] talk [here|on this] [much longer|anymore], [got|you got] {app}[?|]",
        "[just|] [search|look up] {handle} on {app}",
        "[what's|whats] your [number|cell|phone number][, i'll text you|]",
        "[leave|quit] [this|the] server and [dm|message] me",
        "[can we|let's] talk [somewhere|on something] more private[?|]",
        "[get|install] {app}, [it deletes messages|messages disappear there]",
        "[i'll|ill] [wait|be waiting] for you on {app}",
        "[invite|add] me on {app} [so we can play|to chat] [later|tonight|]",
        "[move|go] to [dms|private chat|a private room][ with me|]",
        "[we|u and me] [should|could] [talk|chat] on {app} [instead|from now on]",
    ),
    tails=(", it's better there", ", more private", " asap", ", easier", " 👀", ", ok?"),
)
