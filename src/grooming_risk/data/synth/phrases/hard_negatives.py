"""Hard negatives: benign conversations that share surface words with risk.

A parent planning a surprise says "don't tell dad, it's a secret"; classmates ask each other's
age; a coach posts about team photos with parents in the thread. A model that keys on words
instead of behaviour flags all of these, so they make up a large share of benign data.
Their messages are never risk signs.

Role names become fixed slots: a scenario with roles ("parent", "kid") can write {parent} and
{kid}; {target} is the person a surprise is for. Adult roles are listed in ADULT_ROLES.
"""

from __future__ import annotations

from dataclasses import dataclass

ADULT_ROLES = frozenset(
    {"parent", "parent2", "coach", "tutor", "relative", "teacher", "leader", "babysitter"}
)
# Every role a scenario may use; each becomes a slot, filled even when the role is not in the thread
# ("can we move {kid}'s lesson" is written by a tutor to a parent).
ROLE_SLOTS: tuple[str, ...] = ("kid", "kid2", "kid3", *sorted(ADULT_ROLES))
# Who a surprise is for: the {target} slot.
SURPRISE_TARGETS: tuple[str, ...] = (
    "dad",
    "mum",
    "mom",
    "grandma",
    "grandpa",
    "nan",
    "your sister",
    "your brother",
    "auntie",
)


@dataclass(frozen=True)
class Step:
    role: str
    lines: tuple[str, ...]
    p: float = 1.0  # probability that the step happens at all


@dataclass(frozen=True)
class Scenario:
    name: str
    roles: tuple[str, ...]
    steps: tuple[Step, ...]
    platforms: tuple[str, ...] = ("direct_message", "group_chat", "social_dm")
    bystanders: bool = False  # other people may be in the thread and chat in between


def s(role: str, *lines: str, p: float = 1.0) -> Step:
    return Step(role, lines, p)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "surprise_party",
        ("parent", "kid"),
        (
            s(
                "parent",
                "[hey|hi] {kid}, [don't|dont] tell {target} but [we're|were] planning a surprise [party|dinner] for [the|their] birthday",
                "{kid} [it's|its] a secret [ok|okay]? [we're|were] throwing {target} a surprise [party|dinner] on {day}",
                "[quick|] secret mission: [we're|were] [planning|doing] a surprise for {target}, [don't|dont] say a word",
            ),
            s(
                "kid",
                "[omg|ooh] [ok|okay][!|] [i won't|i wont] tell",
                "[yesss|yes] [i'm|im] [so|] good at secrets",
                "[what|wat] [are we|r we] [doing|getting] for [them|it][?|]",
            ),
            s(
                "parent",
                "if {target} asks, [just|] say [we're|were] [going shopping|at the shops|at grandma's]",
                "[delete|clear] [this|these] [messages|chat] in case {target} [sees|picks up] your [phone|ipad] [lol|haha]",
                "[keep it|it's] [quiet|hush hush] until {day}[ ok|]",
                p=0.8,
            ),
            s(
                "kid",
                "[can i|can we] [make|bake] a [cake|card|banner][?|]",
                "[can i|] [invite|tell] {name}[?|]",
                "[what time|when] [is it|does it start][?|]",
            ),
            s(
                "parent",
                "[yes|good idea][!|] [we'll|we can] [get|pick up] [balloons|decorations|the cake] {time}",
                "{time}, [grandma|auntie|everyone] [is|are] coming [too|as well]",
                "[of course|sure], [just|] [don't|dont] [let it slip|post it anywhere]",
            ),
            s(
                "kid",
                "[this is gonna be|it'll be] [so|] [fun|good]",
                "[ok|kk] [my lips are sealed|not a word]",
                "🤫🎉",
                p=0.7,
            ),
            s(
                "parent",
                "[remember|shh], not a word to {target} 🤫",
                "[love you|thanks sweetie], [our little secret|it's our secret] [till|until] {day}",
                p=0.7,
            ),
        ),
        platforms=("direct_message", "social_dm", "group_chat"),
    ),
    Scenario(
        "classmates_age",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "how old [are you|r u] turning [on|this] {day}[?|]",
                "[wait|omg] [are you|r u] [older|younger] than me[?|]",
                "[when's|whens] your birthday[?|]",
                "how old [are you|r u] [again|actually][?|] [i forgot|for the party invite|]",
            ),
            s(
                "kid2",
                "[i'm|im] turning {age} [next month|in may|on {day}]",
                "{age} [lol|why][?|]",
                "[i'm|im] {age}[, you're|, ur] older [right|i think][?|]",
            ),
            s(
                "kid",
                "[are you|r u] {age} already? [i thought|thought] [you were|u were] younger",
                "[we're|were] [both|] {age} [then|lol]",
                "[same|i'm the same]! [twins|lol]",
            ),
            s(
                "kid2",
                "[my|] [mum|mom|dad] said i can [invite|have] {n} [people|friends] to [my party|the sleepover]",
                "[are you|r u] [old enough|allowed] to watch {show}[?|] [it's|its] [a 15|rated 15|12a]",
                "[you|u] [can|should] come to my party [at|in] the {place}[!|]",
            ),
            s(
                "kid",
                "[yes|yess] [i'll|ill] ask my [mum|mom|dad]",
                "[my|] [parents|mum] [won't|wont] let me watch [it|that] till [i'm|im] {age}",
                "[what|wat] [should i|do i] [bring|get you][?|]",
                p=0.8,
            ),
            s(
                "kid2",
                "[just|] [bring|come with] [snacks|a sleeping bag|yourself] [lol|]",
                "[my|] [mum|mom] [will|can] [text|message] your [mum|mom] [the details|about it]",
                p=0.7,
            ),
        ),
        platforms=("direct_message", "group_chat", "game_chat", "social_dm"),
        bystanders=True,
    ),
    Scenario(
        "coach_team_photos",
        ("coach", "parent", "parent2"),
        (
            s(
                "coach",
                "[hi|hello] [parents|everyone|all], team photos are on {day} at {clock} at the [field|club|gym]",
                "[reminder|heads up]: [team|squad] [photo day|photos] [is|are] {day} {time}, [please|pls] [arrive|be there] [early|15 min early]",
            ),
            s(
                "coach",
                "[please|pls] make sure the kids [wear|bring] [their|the] [kit|jerseys|team shirts]",
                "[players|kids] [need|should have] [clean|full] kit [and|+] [boots|trainers]",
            ),
            s(
                "parent",
                "[thanks coach|thank you][!|] [will|can] {kid} [be|get] [there|dropped off] [by|at] {clock}[?|]",
                "[is|are] [siblings|brothers and sisters] [allowed|welcome] [in the photo|to come][?|]",
                "[we'll|we will] be there [👍|!|]",
            ),
            s(
                "coach",
                "[parents|] you can [order|buy] prints [online|through the club] after",
                "i'll [send|post] the photos in this group [when|once] [they're|theyre] ready",
                "[if|] [your|] [child|kid] [can't|cant] make it, [message|text] me [and we'll|to] [sort|arrange] [another|a] [time|day]",
            ),
            s(
                "parent2",
                "[can i|could we] [get|have] [a copy|copies] [of the team photo|of the photos] for [grandma|the family][?|]",
                "[thanks|cheers] [coach|{coach}][!|]",
                "[we're|were] [running|a bit] late, [be there|there] in {n} [mins|minutes]",
                p=0.8,
            ),
            s(
                "coach",
                "[of course|sure], [i'll|ill] [share|send] the link [with everyone|in here]",
                "[great|thanks], see [you all|everyone] {day}",
                p=0.8,
            ),
        ),
        platforms=("group_chat", "direct_message"),
        bystanders=True,
    ),
    Scenario(
        "group_project_app",
        ("kid", "kid2", "kid3"),
        (
            s(
                "kid",
                "[let's|lets] [move|switch] [this|the project] to {app}, [easier to share files|we can all edit|this chat is a mess]",
                "[can we|should we] [make|start] a {everyday_app} [group|doc] for the {subject} project[?|]",
            ),
            s(
                "kid2",
                "[what's|whats] your [email|username] [for|on] {everyday_app}[?|]",
                "[add|invite] me [to|on] [the|] {app}[, my name is {kid2}|]",
                "[ok|sure] [i'll|ill] make [it|the doc|the group]",
            ),
            s(
                "kid3",
                "[who's|whos] doing the [slides|intro|conclusion|poster][?|]",
                "[i|I] [can|'ll] do the [research|pictures|slides]",
                "[it's|its] due {day}[!!|!|]",
            ),
            s(
                "kid",
                "[can we|let's] [call|video call] [tonight|at 7] to [finish|go over] it[?|]",
                "[i'll|ill] [send|share] the link [in a sec|now]",
                "[check|look at] {everyday_app}, [i|I] [added|put] [my part|the notes]",
            ),
            s(
                "kid2",
                "[ok|kk] [joined|i'm in]",
                "[cant|can't] [tonight|at 7], [tomorrow|after school]?",
                "[our|the] teacher [said|wants] [us|it] [to|on] {everyday_app} [anyway|too]",
                p=0.8,
            ),
            s("kid3", "[done|finished] my [part|section][!|]", "[good|nice] work [guys|team]", p=0.6),
        ),
        platforms=("group_chat", "game_chat", "direct_message"),
        bystanders=True,
    ),
    Scenario(
        "sextortion_warning",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "[did you|have you] [hear|heard] about what happened to {name}[?|]",
                "[our|the] school [sent|had] [an email|an assembly] about [online|blackmail|sextortion] scams today",
                "[omg|wow] [someone|a scammer] [tried|messaged] {name} [with|doing] [that|the] blackmail thing",
            ),
            s(
                "kid2",
                "[no|nope] [what|wat] happened[?|]",
                "[yeah|ya] [it was|that was] [scary|kinda scary]",
                "[wait|omg] [what|is he|is she] [ok|okay][?|]",
            ),
            s(
                "kid",
                "someone [pretending|pretended] to be a {teen_age} [yo|year old] [girl|guy] [got|asked] [him|her] to send a selfie and then said they'd [send it to everyone|post it] unless [he|she] paid",
                "[they|the scammer] [said|threatened] [they'd|they would] [send|post] [the|his|her] [chats|pics] to [everyone|his friends|her school] unless [he|she] [paid|sent gift cards]",
            ),
            s(
                "kid2",
                "[that's|thats] [the|a] [scam|blackmail thing] the [school|teacher|police] warned us about",
                "[that's|thats] [so|] [messed up|scary|awful]",
                "[did|did he|did she] pay[?|]",
            ),
            s(
                "kid",
                "[no|nope] [he|she] [told|reported it to] [his|her] [mum|dad|parents] and [it's|its] [fine|being handled] now",
                "[they|he|she] [blocked|reported] [them|the account] and [told|showed] a teacher",
            ),
            s(
                "kid2",
                "[if|when] [anyone|someone] [threatens|tries that] [with you|], [don't|dont] pay, [screenshot everything|block them] and tell [an adult|your parents|a teacher]",
                "[you can|] report it [on|to] [the app|the police|take it down]",
                "[never|don't] [send|share] [pics|stuff] to people you [don't know|only met online]",
            ),
            s(
                "kid",
                "[the|our] [school|assembly|teacher] said [they|scammers] [often|usually] ask for gift cards",
                "[yeah|ya] [and|] [it's|its] [never|not] your fault [if it happens|]",
                p=0.7,
            ),
        ),
        platforms=("direct_message", "group_chat", "social_dm"),
        bystanders=True,
    ),
    Scenario(
        "relative_gift_card",
        ("relative", "kid"),
        (
            s(
                "relative",
                "[happy birthday|happy bday] {kid}[!|!!] [i|I] [sent|put] a {brand} gift card [in your email|in the post|on your account]",
                "[hi|hello] [love|darling|{kid}], [i've|i have] sent you a {brand} gift card for [your birthday|doing so well at school|christmas]",
            ),
            s(
                "kid",
                "[thank you|thanks] {adult_relative}[!!|!|] [i'm|im] [gonna|going to] [get|buy] {game}",
                "[omg|wow] [thank you|thanks] [so much|soo much][!|]",
                "[it|the code] [worked|arrived]! [thanks|ty]",
            ),
            s(
                "relative",
                "[let me know|tell me] if the code works",
                "[buy|get] yourself something [nice|fun]",
                "[your|] [mum|mom|dad] [said|says] [you've been|you're] [doing|working] [so|really] [well|hard]",
            ),
            s(
                "relative",
                "send me a [pic|photo] [of what you get|when you get it][!|]",
                "[can we|] [video call|facetime] [on|this] {day}? [i want to|i'd love to] see your face",
                p=0.7,
            ),
            s(
                "kid",
                "[ok|okay] [i will|will do][!|]",
                "[yes|sure] {day} [works|is good]",
                "[love you|thanks again] {adult_relative} ❤️",
                p=0.8,
            ),
            s(
                "relative",
                "[love you|lots of love][, {adult_relative} xx| xx|]",
                "[so proud of you|you're growing up so fast] [xx|x|]",
                p=0.7,
            ),
        ),
        platforms=("direct_message", "social_dm", "group_chat"),
    ),
    Scenario(
        "tutor_via_parent",
        ("tutor", "parent"),
        (
            s(
                "tutor",
                "[hi|hello] {parent}, [could|can] we move {kid}'s [lesson|session] to {day} at {clock}[?|]",
                "[hello|hi], [just|] [checking|confirming] {kid}'s {subject} [lesson|tutoring] [for|on] {day}",
            ),
            s(
                "parent",
                "[yes|sure] {day} [works|is fine] [for us|]",
                "[sorry|] [can we|could we] [do|make it] {time} [instead|]?",
                "[that's|thats] fine, [thanks|thank you]",
            ),
            s(
                "tutor",
                "we can [meet|do it] at the library [or online|], [whatever suits|if that works]",
                "i'll [send|email] [you|] the [video call|zoom|meet] link",
                "[please|] [make sure|check] {kid} [has|brings] [the|their] {subject} [book|worksheets]",
            ),
            s(
                "parent",
                "[great|perfect], [i'll|ill] [drop|bring] [him|her|them] [off|over] at {clock}",
                "[could you|can you] [send|email] me [the homework|their progress] [after|afterwards][?|]",
                "[we'll|we will] [be on|join] [the call|online] at {clock}",
            ),
            s(
                "tutor",
                "[of course|sure], [i'll|ill] [send|email] [you|] [a summary|the notes] after",
                "[thanks|thank you], see [you both|you] {day}",
                p=0.8,
            ),
        ),
        platforms=("direct_message", "social_dm"),
    ),
    Scenario(
        "sibling_broken_thing",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "[don't|dont] tell [mum|mom|dad] i broke the [vase|lamp|remote|{item}][!!|!|]",
                "[pls|please] [don't|dont] [tell|say anything] [to mum|to dad|]",
            ),
            s(
                "kid2",
                "[ok|fine] but you owe me",
                "[lol|haha] [what|wat] [do i get|will you give me][?|]",
                "[ugh|fine] [i won't|wont] [tell|say]",
            ),
            s(
                "kid",
                "[it's|its] [our|a] secret [ok|]",
                "[i'll|ill] [fix|replace] it [before|by] {day}",
                "[i'll|ill] [give|lend] you my {item}",
            ),
            s(
                "kid2",
                "[deal|ok deal]",
                "[you|u] [better|should] [tell|confess] [to] [them|her|him] [tho|eventually]",
                "[fine|ok] [i didn't see anything|not my problem] [lol|]",
                p=0.8,
            ),
        ),
        platforms=("direct_message", "social_dm"),
    ),
    Scenario(
        "safety_talk",
        ("parent", "kid"),
        (
            s(
                "parent",
                "if [anyone|someone] online asks how old you are or [asks you|wants you] to keep [secrets|a secret], [tell me|come to me] [ok|okay]?",
                "[remember|just a reminder]: [never|don't] [send|share] [pics|photos] to people you [don't know|haven't met]",
            ),
            s(
                "kid",
                "[ok|okay] [mum|mom|dad] [i know|i know i know]",
                "[yes|ya] [we|we've] [learned|did] [that|this] at school",
            ),
            s(
                "parent",
                "and [don't|never] [move|switch] to [another app|{app}] [with|for] [strangers|people you don't know]",
                "[and|also] [nobody|no one] [should|gets to] [offer|give] you [robux|gifts|money] for [pics|secrets]",
            ),
            s(
                "kid",
                "someone [in|on] {game} [asked|was asking] [for my|my] [age|snap|number] [but|and] i [blocked|reported] [them|him|her]",
                "[ok|k] [i will|i'll] [tell you|show you] [if|when] [it happens|anyone does]",
                p=0.8,
            ),
            s(
                "parent",
                "[good|well done], [that's|thats] [exactly|just] [right|what to do]",
                "[love you|proud of you]. [you can|] always [tell|come to] me",
                p=0.8,
            ),
        ),
        platforms=("direct_message", "social_dm"),
    ),
    Scenario(
        "meet_at_place_with_parents",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "[wanna|want to] meet at the {place} {time}[?|]",
                "[are you|r u] [free|around] {time}? [we're|were] going to the {place}",
            ),
            s(
                "kid2",
                "[yes|yeah|ok] [i'll|ill] ask my [mom|mum|dad]",
                "[maybe|idk] [i'll|ill] [check|ask] [with my mum|my parents]",
            ),
            s(
                "kid",
                "my [mom|mum|dad] can [pick you up|give you a ride|drive us]",
                "[what's|whats] your address [again|]? my [mum|mom] [needs|wants] it for the [map|sat nav]",
            ),
            s(
                "kid2",
                "[she|he] said yes[!!|!|]",
                "[it's|its] {n} [something|] [street|road|lane] [lol|]",
                "[my|] [dad|mum] [will|can] [drop me off|bring me] instead",
            ),
            s(
                "kid",
                "[yay|yess] see you [there|then|{time}]",
                "[my|] [mum|mom] [says|said] hi [to your mum|]",
                p=0.8,
            ),
        ),
        platforms=("direct_message", "social_dm", "group_chat", "game_chat"),
        bystanders=True,
    ),
    Scenario(
        "secret_santa",
        ("kid", "kid2", "kid3"),
        (
            s(
                "kid",
                "[secret santa|the secret santa] [names|draw] [is|are] [out|in]! [don't|dont] tell anyone who you got",
                "[ok|okay] [everyone|guys] [check|got] your secret santa[?|]",
            ),
            s(
                "kid2",
                "[budget|limit] is {small_amount} [right|yeah][?|]",
                "[i|I] [have|got] [no idea|an idea] what to get [them|mine]",
            ),
            s(
                "kid3",
                "[it's|its] a secret [lol|ok]",
                "[don't|dont] [say|post] [it|who you got] in the group[!!|!|]",
                "[shh|shhh] 🤫",
            ),
            s(
                "kid",
                "[we|we'll] [swap|open] [them|gifts] on {day}",
                "[no|] [peeking|hints] [allowed|lol]",
                p=0.8,
            ),
        ),
        platforms=("group_chat", "game_chat"),
        bystanders=True,
    ),
    Scenario(
        "ticket_money",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "[can you|] [send|pay] me the {small_amount} for the [ticket|concert ticket|trip] [by|before] {day}? [or|otherwise] i [have to|gotta] [sell|give] it to someone else",
                "[you|u] still owe me {small_amount} [for|from] [the|] [cinema|pizza|tickets]",
            ),
            s(
                "kid2",
                "[sorry|ok] [sending|i'll send] it [tonight|now] on {payapp}",
                "[can i|could i] [pay|give it to] you [at school|on {day}][?|]",
                "[oops|omg] [i|I] forgot, [sending now|one sec]",
            ),
            s(
                "kid",
                "[ok|sure] [just|] [don't|dont] forget",
                "[got it|received] [thanks|ty]",
                "[no rush|fine] [but|] {day} [latest|at the latest]",
            ),
        ),
        platforms=("direct_message", "social_dm", "group_chat"),
    ),
    Scenario(
        "birthday_video_call",
        ("relative", "kid"),
        (
            s(
                "relative",
                "[can we|shall we] [video call|facetime] [on|for] your birthday [with the camera on|]? [i want|i'd love] to see [your face|you blow out the candles]",
                "[happy birthday|happy bday] {kid}! [are you|r u] free for a [video call|facetime] [later|{time}][?|]",
            ),
            s(
                "kid",
                "[yes|yeah] [at {clock}|{time}]",
                "[ok|sure] [i'll|ill] [call|ring] you [at {clock}|{time}]",
                "[yes|yay] [mum|mom|dad] [will|can] [set it up|call you]",
            ),
            s(
                "relative",
                "send [me|] [a|some] [photo|photos|pics] [from|of] the party[!|]",
                "[you're|youre] growing up so fast[!|]",
                "[so|really] proud of you [sweetheart|love|{kid}]",
            ),
            s(
                "kid",
                "(photo)",
                "<image>",
                "[here|there] [you go|u go][!|]",
                "[love you|thanks] {adult_relative}[ ❤️|]",
                p=0.8,
            ),
        ),
        platforms=("direct_message", "social_dm", "group_chat"),
    ),
    Scenario(
        "clan_server",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "[join|come to] [our|the] [clan|team] [discord|server] for [scrims|practice|the tournament]",
                "[we|we're] [need|looking for] [one more|a fifth|a sub] for the {game} [team|squad]",
            ),
            s(
                "kid2",
                "[what's|whats] the [link|invite][?|]",
                "[sure|ok] [what's|whats] your [discord|username][?|]",
                "[my|] [mum|mom|dad] [said|says] [i can|ok] [if|as long as] [it's|its] [people from school|our school server]",
            ),
            s(
                "kid",
                "[the link|the invite] is in [my|the] bio",
                "[i'll|ill] [send|dm] you the [invite|link]",
                "[we're|we are] [all|mostly] [from|in] [year {year}|the same school]",
            ),
            s("kid2", "[joined|ok i'm in]", "[what time|when] [are|is] [scrims|practice][?|]", p=0.8),
        ),
        platforms=("game_chat", "group_chat", "forum"),
        bystanders=True,
    ),
    Scenario(
        "teacher_trip",
        ("teacher", "parent", "parent2"),
        (
            s(
                "teacher",
                "[reminder|hi all]: [permission slips|forms] for the {place} trip [are due|due] {day}",
                "[hello|hi] [parents|families], [a quick reminder|just a reminder] about the trip on {day}",
            ),
            s(
                "teacher",
                "[please|] [meet|drop off] at the school [gate|entrance] at {clock}",
                "[students|kids] [should|need to] bring [a packed lunch|a water bottle|a coat]",
                "we'll [share|post] [photos|pics] [of the trip|] [on|in] {everyday_app}",
            ),
            s(
                "parent",
                "[thank you|thanks]! [will|does] [the bus|it] [be back|return] by {clock}[?|]",
                "[is|are] [phones|mobiles] allowed on the trip[?|]",
                "[forms|slip] [sent|handed in] [👍|today|]",
            ),
            s(
                "teacher",
                "[yes|we should be back] [around|by] {clock}",
                "[phones|mobiles] [are fine|allowed] but [kept|stay] in [bags|their bags]",
                p=0.8,
            ),
            s(
                "parent2",
                "[thanks|thank you] [for organising|so much]",
                "[can|could] [someone|anyone] [give|share] [a lift|lifts] [back|home] [from school|after][?|]",
                p=0.7,
            ),
        ),
        platforms=("group_chat",),
        bystanders=True,
    ),
    Scenario(
        "babysitter",
        ("parent", "babysitter"),
        (
            s(
                "parent",
                "[are you|r u] [free|available] to [babysit|watch the kids] {day} from {clock}[?|]",
                "[hi|hello] {babysitter}, [could|can] you [do|cover] {day} [evening|night][?|]",
            ),
            s(
                "babysitter",
                "[yes|sure] [i can|i'm free][!|]",
                "[i|I] [can|could] [do|make] {clock} [if that's ok|]",
                "[sorry|] [i have|i've got] [exams|work] [that day|], [next week|{day}] [works|is ok]?",
            ),
            s(
                "parent",
                "the kids [go to sleep|have bedtime] at [8|half 8|8:30]",
                "[i'll|ill] [pay|send] {small_amount} [an hour|] [on|via] {payapp}",
                "[there's|theres] {food} in the fridge for [dinner|tea]",
            ),
            s("babysitter", "[great|perfect] [see you|thanks] {day}", "[no problem|no worries][!|]", p=0.8),
        ),
        platforms=("direct_message", "social_dm"),
    ),
    Scenario(
        "proud_relative",
        ("relative", "kid"),
        (
            s(
                "relative",
                "you [were|looked] [amazing|brilliant] at {event}[!|!!]",
                "[saw|heard] you [won|did so well] at {event}[!|]",
            ),
            s(
                "relative",
                "[so|really] proud of you [sweetheart|love|{kid}]",
                "you're [so|really] [talented|grown up|mature] now",
                "[you're|ur] [a|the] [star|superstar]",
            ),
            s(
                "kid",
                "[thanks|thank you] {adult_relative} ❤️",
                "[aw|aww] [thanks|ty]",
                "[it was|i was] [so|] [nervous|scared] [tho|lol]",
            ),
            s(
                "relative",
                "[can you|] send [me|] [the|a] [video|photos] [from|of] [it|the show][?|]",
                "[your|] [mum|mom|dad] [said|says] [you practised|you've been practising] [so|really] hard",
                p=0.8,
            ),
            s(
                "kid",
                "[ok|sure] [i'll|ill] ask [mum|mom|dad] [to send it|]",
                "(photo)",
                "[here|heres] [one|a pic] [from|of] [the end|us]",
                p=0.7,
            ),
        ),
        platforms=("direct_message", "social_dm", "group_chat"),
    ),
    Scenario(
        "haircut_selfie",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "[omg|wait] [did you|u] [cut|dye] your hair?? [send a pic|show me|pic pls]",
                "[send|show me] a [pic|selfie] of [the|your] new [haircut|hair|glasses|braces][!|]",
            ),
            s(
                "kid2",
                "(photo)",
                "<image>",
                "📷",
                "[lol|haha] [ok|fine] [one sec|hold on]",
                "[no|nope] [it|i] [looks|look] [bad|weird] [lol|]",
            ),
            s(
                "kid",
                "[omg|ahh] [it looks|looks] [so good|amazing][!|]",
                "[i|I] [wanna|want to] [get|do] mine [like that|too]",
                "[stoppp|stop] [it|u] [looks|look] [fine|great] [lol|]",
            ),
            s("kid2", "[thanks|ty] [lol|haha|]", "[my|] [mum|mom|sister] [did|cut] it", p=0.7),
        ),
        platforms=("direct_message", "social_dm", "group_chat"),
        bystanders=True,
    ),
    Scenario(
        "club_moves_chat",
        ("leader", "parent", "parent2"),
        (
            s(
                "leader",
                "[we're|we are] moving [the club|this] [chat|group] to {everyday_app} [next week|from {day}], [parents|please] [join|use] the link",
                "[hi|hello] [all|everyone], [this|the] [group|chat] [is moving|will move] to {everyday_app}",
            ),
            s(
                "leader",
                "[younger members|kids under 13] [should|need to] [join|use] [a parent's|their parent's] account",
                "[i'll|ill] [post|send] the [link|invite] [here|below]",
            ),
            s(
                "parent",
                "[thanks|thank you]! [joined|done]",
                "[can|does] [my|] [kid|child|{kid}] [need|have to have] [their own|an] account[?|]",
            ),
            s(
                "leader",
                "[no|nope] [a parent|your] account [is fine|is best]",
                "[please|] [keep|use] [the|one] [parent|adult] account [per family|for now]",
                p=0.8,
            ),
            s(
                "parent2",
                "[done|joined] [thanks|👍]",
                "[what|wat] [time|day] [is|are] [practice|sessions] [now|next week][?|]",
                p=0.7,
            ),
        ),
        platforms=("group_chat",),
        bystanders=True,
    ),
    Scenario(
        "scam_alert_at_home",
        ("parent", "kid"),
        (
            s(
                "parent",
                "the school [sent|emailed] [a warning|an email] about [gift card|online] scams where [someone|people] [pretends|pretend] to be [a kid|another student] and [asks|demands] [money|gift cards]",
                "[saw|read] a [news|] story about [blackmail|sextortion] scams [targeting|aimed at] [teens|kids], [can we|] talk about it later[?|]",
            ),
            s(
                "kid",
                "[ok|okay] [i know|we had an assembly about it]",
                "[yeah|ya] [they|the school] [told|warned] us",
            ),
            s(
                "parent",
                "if anyone [ever|] [asks|messages] you [for|about] [money|gift cards|pics], [tell|show] me [straight away|right away]",
                "[you|u] [won't|will never] be in trouble [for telling me|if you tell me], [ok|okay][?|]",
                "[and|also] [never|don't] [pay|send] anything, [even if|if] they [threaten|scare] you",
            ),
            s(
                "kid",
                "[ok|kk] [i promise|promise]",
                "[a|one] [kid|person] in my class [got|had] that [happen|message] [i think|]",
                p=0.8,
            ),
        ),
        platforms=("direct_message", "social_dm"),
    ),
    Scenario(
        "homework_video_call",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "[can you|] [hop on|get on] a video call [with your camera on|] so i can see [the|your] [diagram|working|graph][?|]",
                "[send|take] a [pic|photo] of [your|the] [answers|worksheet|page {n}][?|]",
            ),
            s(
                "kid2",
                "[ok|sure] [one sec|calling now]",
                "(photo)",
                "[here|heres] [page|question] {n}",
                "[my|] camera [is|'s] [broken|bad] [but|] [i'll|ill] [share|screenshare] [my screen|it]",
            ),
            s(
                "kid",
                "[thanks|ty] [so much|]",
                "[omg|oh] [that|i] [makes sense|get it] now",
                "[wait|hold on] [how did you|how'd u] get [that|{n}][?|]",
            ),
            s(
                "kid2",
                "[np|no problem]",
                "[we|we'll] [have|got] {subject} [tomorrow|first] [anyway|lol]",
                p=0.7,
            ),
        ),
        platforms=("direct_message", "social_dm", "group_chat"),
    ),
    Scenario(
        "friend_gifts_skin",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "[i'll|ill] gift you the [battle pass|skin|deluxe edition] for your birthday[!!|!|]",
                "[i|I] [have|got] [extra|spare] [robux|v-bucks|coins], [want some|i'll send you some][?|]",
            ),
            s(
                "kid2",
                "[omg|wait] [really|rly]? [thank you|ty]",
                "[no|] [you don't|u dont] have to[!|]",
                "[you|u] [got|gave] me one [last year|on mine] [lol|so fair]",
            ),
            s(
                "kid",
                "[what's|whats] your [username|gamertag] [again|]",
                "[sent|gifted] [it|them][!|] [check|look at] your [inbox|account]",
                "[it's|its] [fine|nothing] [my|] [mum|dad] [gave|got] me a gift card",
            ),
            s(
                "kid2",
                "[got it|it worked][!!|!] [thank you|ty] [so much|soo much]",
                "[i'll|ill] [get|gift] you [something|one] [for yours|back]",
                p=0.8,
            ),
        ),
        platforms=("game_chat", "direct_message", "social_dm"),
    ),
    Scenario(
        "sleepover_permission",
        ("parent", "parent2"),
        (
            s(
                "parent",
                "[hi|hello] {parent2}, {kid} [asked|would love] [if|to] [she|he|they] [can|could] [come for|have] a sleepover {day}[?|]",
                "[hi|hey], [the kids|{kid} and {kid2}] [want|are asking for] a sleepover {day}",
            ),
            s(
                "parent2",
                "[of course|sure], [what time|when] [should i|shall i] [drop|bring] [them|her|him] [off|over][?|]",
                "[that's|thats] fine, [any|are there any] allergies [i should know about|?|]",
            ),
            s(
                "parent",
                "[around|about] {clock} [is good|works]",
                "[our|the] address is {n} [elm|oak|park|mill] [road|street|close]",
                "[i'll|ill] [text|send] [you|] [the|our] address",
            ),
            s(
                "parent2",
                "[great|perfect], [i'll|ill] [pick|collect] [them|her|him] [up|] [in the morning|at 10|after breakfast]",
                "[thanks|thank you] [so much|]!",
                p=0.8,
            ),
        ),
        platforms=("direct_message", "social_dm"),
    ),
    Scenario(
        "delete_embarrassing_photo",
        ("kid", "kid2"),
        (
            s(
                "kid",
                "[pls|please] delete that [pic|photo] of me [from|in] the group [lol|i look so bad]",
                "[can you|] [not|don't] [post|share] that [video|pic] [of me|]? [i|I] [look|blinked] [weird|terrible]",
            ),
            s(
                "kid2",
                "[ok|okay] [deleted|done] [lol|sorry]",
                "[lol|haha] [fine|ok] [but|] [it was|you looked] [funny|cute] [tho|]",
                "[ok|sure] [i|I] [won't|wont] [post|share] it",
            ),
            s(
                "kid",
                "[thanks|ty] [lol|]",
                "[i'll|ill] [delete|get rid of] the [one|pic] of you [too|then] [lol|]",
                p=0.7,
            ),
        ),
        platforms=("direct_message", "group_chat", "social_dm"),
        bystanders=True,
    ),
    Scenario(
        "new_phone_rules",
        ("parent", "kid"),
        (
            s(
                "parent",
                "[ok|right] [new|] phone rules: [no|] [phones|phone] [after|past] [9|half 9] [and|,] i [will|can] [check|see] [your|who you] [apps|talk to]",
                "[you can|] [have|download] {app} [but|if] [only|you only] [add|talk to] people you know [in real life|irl]",
            ),
            s(
                "kid",
                "[ugh|fine] [ok|okay]",
                "[can i|could i] [at least|] [have|get] {app}[?|] [everyone|all my friends] [has|have] it",
                "[that's|thats] [so|] [unfair|strict] [lol|]",
            ),
            s(
                "parent",
                "[we'll|we can] [try|see] [for|in] a [month|few weeks]",
                "[your|] [account|profile] [stays|needs to be] private [ok|okay]",
                "and [you|u] tell me if [anyone|someone] [weird|you don't know] messages you",
            ),
            s("kid", "[ok|deal]", "[ok|fine] [love you|thanks]", p=0.7),
        ),
        platforms=("direct_message", "social_dm"),
    ),
)
