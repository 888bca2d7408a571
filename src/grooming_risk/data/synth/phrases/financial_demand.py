"""Financial demands: money, gift cards or game currency, usually with a deadline."""

from __future__ import annotations

from grooming_risk.data.synth.phrases.bank import CategoryBank

BANK = CategoryBank(
    category="financial_demand",
    openers=("here's what happens now", "simple", "listen", "ok", "last chance", "easy way out"),
    cores=(
        "[send|pay|give] me {amount} [in {brand} gift cards|on {payapp}|in {currency}] {deadline}",
        "[i want|i need] {amount} [{deadline}|now|right now]",
        "[buy|get] [a|] {brand} [gift card|card] [for|worth] {amount} and send [me|] the code[s|] {deadline}",
        "you have {minutes} [minutes|mins] to [pay|send it|send the money]",
        "[scratch|] [the|] code[s|] and send [me|] a pic of the back {deadline}",
        "my {payapp} is {handle}, send {amount}",
        "how much [money|cash] [do you have|can you get][?|]",
        "[ask|borrow from] your [parents|sister|friends][ if you have to|], i [want|need] {amount} {deadline}",
        "[pay|send] {amount} and i'll delete [everything|the pics|it all]",
        "{amount} [is the price|and we're done|and you never hear from me again]",
        "the price [just|] went up[, now it's|:] {amount}",
        "i [don't|dont] care [how|where] you get it, [just|] send {amount}",
        "[tick tock|clock's ticking], {amount} {deadline}",
        "[send|pay] [what you have|whatever you have] [now|first], [then|and] the rest {deadline}",
        "use your [mom's|parents'|dad's] card [if you have to|]",
        "{amount} in [robux|v-bucks|crypto|bitcoin] [works too|is fine]",
        "[go to|walk to] the [shop|store|corner shop] and [buy|get] {brand} cards[ {deadline}|]",
        "[send|give] me [the|] [money|cash|codes] {deadline}[ or else|]",
        "[i|I] [need|want] [the|] [codes|gift cards] [{deadline}|now]",
        "[not|only] {small_amount}? [that's not enough|i said {amount}|nope, {amount}]",
        "[pay|send it] {deadline}, [i'm waiting|don't be late]",
        "[transfer|wire] {amount} to [my|this] [account|{payapp}]",
        "[sell|pawn] [your|ur] [phone|console|stuff] [if you have to|], [just|] get me {amount}",
        "[each|every] [hour|day] [you wait|late] [it goes up|is another {small_amount}]",
        "[send|pay] {amount} [or|and] [this ends|it all goes away]",
        "[start|first] [with|send] {small_amount} [now|tonight][ to show you're serious|]",
        "[get|grab] [a|] {brand} [card|gift card] [tonight|{deadline}], [send|text] me [the numbers|the code]",
        "[i|I] [want|need] [my money|the money|payment] {deadline}",
        "[how|when] [are you|r u] [paying|gonna pay][?|]",
        "[find|get] {amount}[ {deadline}|][, i don't care how|]",
    ),
    tails=(", no excuses", ", understand?", ", don't make me wait", " ⏰", ", last chance", ", or else"),
)
