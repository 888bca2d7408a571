"""Threats and coercion: sharing images or chats, telling others, ruining reputation."""

from __future__ import annotations

from grooming_risk.data.synth.phrases.bank import CategoryBank

BANK = CategoryBank(
    category="threat_coercion",
    openers=(
        "listen carefully",
        "let me be clear",
        "ok here's the deal",
        "you think this is a game?",
        "last warning",
        "i'm done playing",
    ),
    cores=(
        "i['ll| will] send [your|ur] [pics|photos|selfies|pictures] to [all your friends|your school|your parents|everyone you know|all your followers]",
        "[i have|i've got|i saved] [screenshots|our chats|everything], [i'll|ill] [post|share|send] [it|them] [everywhere|to your family|to your school]",
        "if you [block me|tell anyone|stop replying], [everyone|your parents|your whole school] [sees|will see] [the pics|our chats|everything]",
        "[do what i say|you better listen] or [i post|i'll post] [it|your pics|the screenshots]",
        "[i know|i found] [where you go to school|your school|your parents' names|your family on {app2}]",
        "[your|ur] [life|reputation] [is over|will be ruined] [if|unless] you [pay|listen|do this]",
        "i'll [make|set up] a [group|page] with your [pics|chats] and add [everyone|your whole class]",
        "[don't|dont] [test me|play games with me], i [will|can] ruin you",
        "i [already|] [found|have] [your|ur] [followers list|friends list|contacts]",
        "[think|imagine] what your [mom|parents|friends|teachers] will say when they see [this|our chats]",
        "[one click|one message] and [it's|its] [everywhere|all over school]",
        "you'll [regret|be sorry] [it|] if you [ignore me|tell anyone]",
        "if you tell [your parents|anyone|the police], i'll send [it|everything] [to everyone|anyway]",
        "you [don't|dont] want [your family|everyone] to see [this|these|our chats][, do you|, right|]",
        "if you tell anyone, [you'll|youll] [be the one in trouble|get in trouble too]",
        "[nobody|no one] will believe you [anyway|over me]",
        "[i've|i have] [got|already got] [your|ur] [mom's|dad's|sister's] [account|page], [want me to|should i] [send it|message them][?|]",
        "[the|] [pics|screenshots] go [out|live] [in {minutes} minutes|tonight|soon] [unless|if you don't listen]",
        "[i'm|im] [sending|posting] [it|them] [now|right now|in 5]",
        "[everyone|all your friends] [will|is gonna] [know|see] what you [did|sent]",
        "[say goodbye to|there goes] your [friends|reputation|life at school]",
        "[i'll|ill] [tag|send it to] [your school's page|your teachers|your coach]",
        "you [can't|cant] [hide|run], i [have|know] [everything|your info]",
        "[block|ignore] me and [it's|its] [posted|sent] [instantly|straight away]",
        "[i'll|ill] [tell|show] your parents [everything|what you've been doing]",
        "[you|u] [think|really think] [i'm|im] bluffing[? try me|?]",
        "i [made|have] a [video|collage] [of|with] your [pics|selfies] [ready to send|ready]",
        "[your|ur] [whole school|class group chat] [gets|will get] [it|the link] [first|tonight]",
        "[i|I] [will|can] make [your life|school] [hell|a nightmare]",
        "[stop|quit] [crying|begging], [it won't help|that won't work]",
        "[i'll|ill] [ruin|destroy] [you|your life] [if you don't|unless you] [listen|cooperate]",
        "[i've|i] [got|saved] your [address|school name|full name], [don't|dont] [test|try] me",
    ),
    tails=(", i'm not joking", ", this isn't a game", ", try me", ", your choice", " 😈", ", don't test me"),
)
