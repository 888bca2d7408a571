"""Meeting requests: meeting in person, offering rides, asking where the child lives or goes to school."""

from __future__ import annotations

from grooming_risk.data.synth.phrases.bank import CategoryBank

BANK = CategoryBank(
    category="meeting_request",
    openers=("i was thinking", "so", "crazy idea", "what if", "hey listen", "fun idea"),
    cores=(
        "[we should|let's|wanna] meet [up|] [sometime|irl|this weekend|at the {place}]",
        "[where|what town|what part of town] do you live[?|]",
        "[what's|whats] your address[, i'll send you something|][?|]",
        "i [can|could] [pick you up|give you a ride|drive you] [from school|after school|to the {place}]",
        "i'll be in [your area|{city}] [next week|on {day}|this weekend], [wanna hang|let's meet][?|]",
        "[what|which] school do you go to[?|]",
        "[come|meet me] [to|at] the {place} [on {day}|after school|{time}]",
        "how far [are you|is your house] from the {place}[?|]",
        "i [could|'ll] [come|visit] [to your town|by] [sometime|soon]",
        "[we could|let's] [go to|grab food at|hang at] the {place}[ together|]",
        "do you walk home [alone|by yourself] [after school|][?|]",
        "[what|which] [bus|train] do you take [home|to school][?|]",
        "i'm [only|like] {n} [minutes|miles] from {city}",
        "[send|drop] me your location",
        "[can|could] we meet [in person|face to face] [one day|soon][?|]",
        "[when|if] we meet [up|] i'll show you [around|the city|my car]",
        "[tell me|what's] the name of your street[?|]",
        "[i can|let me] [wait|park] [outside|near] your school [after class|at 3]",
        "[are you|r u] free {time}[? we could meet|]",
        "[do you|] [ever|] go to the {place} [near you|by yourself][?|]",
        "i'll [buy|get] you [food|ice cream|a milkshake] [when we meet|if we hang out]",
        "[let's|lets] [hang out|meet] [for real|irl] [soon|this week]",
        "[which|what] [park|mall|shop] is closest to you[?|]",
        "[tell|say to] your [mom|parents] you're [at a friend's|at the library] and [meet me|come see me]",
        "i'm [driving|coming] [through|to] {city} [on {day}|soon], [where are you|you around][?|]",
        "[i'll|ill] [book|get] us [tickets|a table] at the {place}, [just come|you in][?|]",
        "[whats|what's] [the|your] postcode[?|]",
        "[you|u] live near the {place} right[?|]",
        "[what time|when] does school [finish|let out][? i could be there|][?|]",
        "[i'd|i would] [love|like] to meet you [irl|in real life|someday]",
        "[we|u and me] [could|should] [hang out|chill] [at my place|somewhere quiet]",
        "[can|could] [you|u] [sneak out|get out] for [an hour|a bit] [tonight|this weekend][?|]",
        "[do your parents|does your mom] [drop you off|pick you up] at the {place}[?|]",
        "[i know|i've seen] the {place} [near you|in {city}], [let's meet there|meet me there]",
    ),
    tails=(", no pressure", ", it'd be fun", ", just us", " 😊", ", we'd have fun", ", you in?"),
)
