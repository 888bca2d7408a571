"""How the targeted child answers: hesitation, pushback, changing the subject, sometimes complying.

None of these lines is a risk sign: the victim's words never carry categories, even when they
repeat the offender's words ("how old are you?" asked back).
"""

from __future__ import annotations

COMPLY = "comply"
HESITATE = "hesitate"
REFUSE = "refuse"
DEFLECT = "deflect"

REPLIES: dict[str, dict[str, tuple[str, ...]]] = {
    "age_probing": {
        COMPLY: (
            "[im|i'm|I'm] {v_age}[, u?|, you?|]",
            "{v_age}[ why|]",
            "{v_age} [lol|haha|]",
            "[year|yr] {year}",
            "{grade} grade",
            "[almost|nearly] {v_age}",
            "{v_age} [in|next] {day}[ lol|]",
            "[my|] parents [are at work|work late|are out]",
            "[nobody|no one]'s home [rn|till 6|right now]",
            "[just|] me and my [little brother|sister|dog] [rn|]",
            "[my|] mom [checks|looks at] my phone [sometimes|every night|never]",
            "[i|I] [turn|turned] {v_age} [last month|in march]",
        ),
        HESITATE: (
            "[why|y] [do you|d u] [wanna know|ask|care]",
            "old enough [lol|haha|]",
            "[that's|thats] [kinda|a bit] personal",
            "[guess|take a guess] [lol|]",
            "[does it|it doesnt] matter[?|]",
            "[i|I] [don't|dont] [really|] [say that|share that] online",
            "[how old|what about] [are|r] you[ first|]?",
            "[idk|i dunno] [why|] [u|you] need to know",
        ),
        REFUSE: (
            "[i'm|im] not [telling|saying][ you|]",
            "[no|nope], [my|] parents said not to [say|tell people]",
            "[that's|thats] [weird|creepy] to ask",
            "[not|none of] your business[ lol|]",
        ),
    },
    "flattery_trust": {
        COMPLY: (
            "[aw|aww|awww] thanks",
            "[lol|haha] [thanks|ty]",
            "[you're|ur] [nice|sweet|so nice] [too|]",
            "[that|this] means a lot",
            "[you|u] [too|as well]",
            "[no|nobody] one's ever said that to me",
            "[i|I] [like|love] talking to you too",
            "[you're|ur] [my|a] [good|real] friend [too|]",
            "[omg|aw] [stop|stopp] [haha|lol]",
        ),
        HESITATE: (
            "[stop|stopp] [ur|you're] embarrassing me",
            "[idk|i dunno] about that",
            "[lol|haha] [ok|okay|alright]",
            "[umm|um] [thanks i guess|ok]",
            "[that's|thats] [kinda|a bit] [much|a lot|intense]",
            "[we|we've] [only|just] [met|started talking] [tho|though]",
            "[you|u] [don't|dont] [even|] know me [that well|irl]",
        ),
        REFUSE: (
            "[that's|thats] [kinda|lowkey|a bit] weird",
            "[ok|um] [you're|ur] being [weird|strange] [now|]",
            "[my|] friends [are|r] [nice|fine] [tho|actually]",
        ),
    },
    "secrecy": {
        COMPLY: (
            "[ok|okay|k] i [won't|wont] tell",
            "[ok|kk] [deleted|i'll delete it]",
            "[i|I] [won't|wont] say anything",
            "[our|ur] secret [lol|]",
            "[ok|okay] [i promise|promise]",
            "[sure|ok] [no one|nobody] will know",
            "[my|] mom [doesn't|doesnt] check [anyway|much]",
        ),
        HESITATE: (
            "[why|y] [tho|though]?",
            "[why|why do] [does it|] [have to|need to] be [a|] secret[?|]",
            "[that's|thats] [kinda|a bit] [weird|sus|strange]",
            "[i|I] [don't|dont] [like|do] keeping secrets from my [mom|parents]",
            "[umm|um] [why|ok]",
            "[my|] mom [checks|reads] my phone [tho|though]",
        ),
        REFUSE: (
            "[no|nah] [i tell my|my] [mom|parents] [everything|stuff]",
            "[that's|thats] [not ok|weird], i'm [telling|gonna tell] my [mom|dad]",
            "[why|y] would i [hide|delete] [it|anything]",
            "[i'm|im] not [deleting|hiding] anything",
        ),
    },
    "isolation": {
        COMPLY: (
            "[yeah|ya] [they|my parents] [don't|dont] [get|understand] me",
            "[my|] [mom|parents] [is|are] [so|really] strict [tbh|honestly]",
            "[true|ig] [you're|ur] [easier|nicer] to talk to",
            "[sometimes|lowkey] [they|my friends] [are|r] annoying",
            "[yeah|yea] [maybe|i guess] [you're|ur] right",
        ),
        HESITATE: (
            "[idk|i dunno] [they're|my friends are] [ok|fine] [mostly|usually]",
            "[they|my parents] [mean well|try] [i guess|tho]",
            "[hmm|hm] [maybe|i guess]",
            "[why|y] [do you|] [say that|think that][?|]",
        ),
        REFUSE: (
            "[no|nah] my [friends|parents] [are|r] [cool|nice|great]",
            "[don't|dont] [talk|say stuff] about my [family|friends] like that",
            "[that's|thats] [not true|mean]",
            "[i|I] [love|like] my [family|friends] [tho|actually]",
        ),
    },
    "gifts_offers": {
        COMPLY: (
            "[omg|wait] [really|rly][??|?|!]",
            "[yes|yess] [please|pls]",
            "[that would be|thatd be] [amazing|sick|so cool]",
            "[thank you|thanks|ty] [so much|soo much|]",
            "[no way|omg] [thanks|ty]",
            "[sure|ok] [lol|haha|]",
        ),
        HESITATE: (
            "[my|] [mom|parents] [says|say] i [can't|cant] accept stuff [from people online|]",
            "[what|wat] do i [have to|need to] do[?|]",
            "[why|y] [would you|do you] [do that|want to][?|]",
            "[that's|thats] [too much|a lot] [tho|though]",
            "[um|umm] [idk|maybe]",
        ),
        REFUSE: (
            "[no|nah] [thanks|ty|im good]",
            "[i|I] [don't|dont] [want|need] [anything|it]",
            "[that's|thats] [weird|sus], no thanks",
        ),
    },
    "platform_migration": {
        COMPLY: (
            "[ok|k] [whats|what's] [ur|your] [username|user|name]",
            "[ok|sure] [added|i added] you",
            "[my|] {app} is {tag}",
            "[ok|kk] [i'll|ill] [download|get] it",
            "[sure|ok] [one sec|gimme a sec|brb]",
        ),
        HESITATE: (
            "[i|I] [don't|dont] have [that|it]",
            "[my|] parents [don't|dont] let me [have|use] [it|that app|{app}]",
            "[why|y] [can't|cant] we [just|] talk here[?|]",
            "[maybe|idk] [later|tomorrow]",
            "[i'm|im] not [allowed|supposed to]",
            "[i'd|id] [have to|need to] ask my [mom|dad]",
        ),
        REFUSE: (
            "[no|nah] [i'll|ill] [just|] stay here",
            "[i|I] [don't|dont] give out my [number|socials]",
            "[no|nope] [sorry|thanks]",
        ),
    },
    "image_request": {
        COMPLY: (
            "[ok|fine] [one sec|hold on]",
            "(photo)",
            "<image>",
            "📷",
            "*sent a photo*",
            "[there|here] [you go|u go]",
            "[ok|kk] [sent|sending]",
            "<attachment>",
        ),
        HESITATE: (
            "[idk|i dunno] i look [bad|terrible|tired] [rn|today]",
            "[why|y] do you [want|need] a [pic|selfie][?|]",
            "[maybe|idk] [later|another time]",
            "[i'm|im] [shy|not photogenic]",
            "[my|] camera [is broken|doesn't work] [lol|]",
            "[you|u] [first|go first]",
            "[i|I] [don't|dont] [really|] [do|send] [pics|selfies]",
        ),
        REFUSE: (
            "[no|nope|nah]",
            "[no|nope] [sorry|thanks]",
            "[i|I] [don't|dont] send pics to people i don't know",
            "[that's|thats] [weird|creepy] [lol|]",
            "[my|] [mom|parents] [said|told me] [not to|never to] send pics",
            "[stop|stop asking] [please|pls]",
        ),
    },
    "meeting_request": {
        COMPLY: (
            "[ok|maybe] [where|when][?|]",
            "[i live|im] [near|by] the {place}",
            "[sure|ok] [what time|when][?|]",
            "[i|I] [go to|am at] [the school by|school near] the {place}",
            "[i'm|im] [free|around] {time}",
        ),
        HESITATE: (
            "[i'd|id] [have to|need to] ask my [mom|dad|parents]",
            "[i|I] [can't|cant] go [out|anywhere] alone",
            "[that's|thats] [kinda|a bit] far",
            "[idk|i dunno] [we|we've] [only|just] [met|talked] online",
            "[maybe|idk], [my|] parents [would|will] [ask|want to know] who you are",
            "[i'm|im] [busy|not free] [then|that day]",
        ),
        REFUSE: (
            "[no|nah] [thanks|sorry]",
            "[i|I] [don't|dont] [even|] know you [irl|in real life]",
            "[i|I] [don't|dont] give out my address",
            "[that's|thats] [creepy|weird|not happening]",
            "[no|nope], [my|] [mom|dad] [would|will] [kill me|never let me]",
        ),
    },
}

# Changing the subject is the commonest way a child deflects; it works for any category.
DEFLECT_LINES: tuple[str, ...] = (
    "anyway did you see the new {game} update",
    "[brb|gtg] [dinner|my mom's calling]",
    "[lol|haha] anyway",
    "[wanna|want to] play {game}[?|]",
    "[i|I] have [homework|a test tomorrow]",
    "[did you|have you] watch[ed|] {show}[?|]",
    "[ok|k] [anyway|so] [what|wat] [are you|r u] doing",
    "[my|] {pet} [just|] [did something|knocked something over] [lol|haha]",
    "[i'm|im] [so|sooo] [tired|bored] [today|rn]",
    "[hm|hmm] [ok|okay]",
    "[lol|haha] [what|idk]",
    "[can we|let's] [talk about|do] something else",
)

# Sextortion: the victim's pushback and pleas once the threat lands.
PLEAD: tuple[str, ...] = (
    "please [don't|dont] [do this|send it|post anything]",
    "[i'm|im] [just|only] {v_age}[ please|]",
    "[please|pls] [i'm|im] begging you",
    "[why|y] [are you|r u] doing this",
    "[please|pls] [just|] delete [it|them|everything]",
    "[i'm|im] [so|really] scared",
    "[i|I] [thought|trusted] you [were|was] [my friend|nice]",
    "[please|pls] [leave me alone|stop]",
    "[ok|okay] [please|pls] [wait|just wait]",
    "[i|I] [can't|cant] [stop crying|think straight]",
    "[what do you want|what do i do][?|]",
)
NO_MONEY: tuple[str, ...] = (
    "[i|I] [don't|dont] have [any|that much] money",
    "[i'm|im] [a kid|just a kid], [i don't|i dont] have {amount}",
    "[i|I] [only|just] have {small_amount}",
    "[i|I] [can't|cant] [get|buy] [gift cards|that] [without|w/o] my [parents|mom]",
    "[i|I] [don't|dont] have a [card|bank account]",
    "[where|how] [am i|would i] [supposed to|gonna] get {amount}[?|]",
)
BARGAIN: tuple[str, ...] = (
    "[can i|could i] [send|pay] {small_amount} [instead|now]",
    "[i|I] can [maybe|] get [some|it] [by|on] {day}",
    "[if i pay|if i send it] [will you|u will] delete [everything|it][?|]",
    "[ok|okay] [i'll|ill] try [to get it|]",
    "how do i know [you'll|u will] [delete it|stop][?|]",
    "[give me|i need] more time[ please|]",
)
STAND_UP: tuple[str, ...] = (
    "[i'm|im] [telling|gonna tell] my [parents|mom|dad]",
    "[i'm|im] [reporting|blocking] you",
    "[i|I] [already|just] [reported|blocked] [you|your account]",
    "[go ahead|do it], [i'm|im] [not paying|not scared]",
    "[i'm|im] [screenshotting|saving] this for the police",
    "[i|I] [told|am telling] [a teacher|my mom|an adult]",
)
PAY: tuple[str, ...] = (
    "[ok|okay] [i sent|sent] {small_amount}",
    "[here|heres] [the|a] code",
    "[i|I] [bought|got] [a|the] card[, sending|]",
    "[ok|fine] [i'll|ill] [pay|send it]",
    "[i|I] [sent|paid] [what i have|all i have]",
)
