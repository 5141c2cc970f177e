"""Sample responses for scripts/ifeval_conformance.py: one generator per IFEval checker, each
aiming at the boundaries of its decision (count relations at n-1/n/n+1, markdown variants,
Unicode, empty text, code fences, mixed case and mixed languages), plus synthetic answers to the
real 541 prompts. Every generator draws from the `rng` it is given, so the corpus is
deterministic.
"""

import json
import re

# ---- Text pools ------------------------------------------------------------------------------

ENGLISH = [
    "The quick brown fox jumps over the lazy dog.",
    "Mr. Smith went to Washington on Jan. 5th.",
    "Dr. Watson arrived at 3:15 p.m. and left before noon.",
    "The U.S. economy grew by 2.5 percent last year.",
    'She asked, "Are you coming tonight?"',
    "Wait... what happened next?",
    "J. K. Rowling wrote the Harry Potter books.",
    "Prices rose from $3.50 to $4.25 in one week!",
    "This is it (or so they said.)",
    "He works at Acme Inc. in Springfield.",
    "For example, e.g. apples, oranges, and pears are fruit.",
    "The meeting is at 10 a.m. tomorrow.",
    "Visit www.example.com for details.",
    "They moved to St. Louis in 1999.",
    "I can't believe it's already over!",
    '"Stop!" she shouted. "Don\'t move."',
    "Version 3.0.1 fixed the bug.",
    "The Ph.D. candidate defended her thesis.",
    "It was late; everyone had gone home.",
    "Is this the real life? Is this just fantasy?",
    "We gonna win this, wanna bet?",
    "They cannot agree on anything.",
    "'Tis the season to be jolly.",
    "The results (see Fig. 3) were clear.",
    "No. 5 is my favourite number.",
    "Call me at 555-0100, or e-mail me at test@example.org.",
    "The committee met on Oct. 3 and Nov. 7.",
    "Gen. Grant and Col. Sanders were there.",
    "An ellipsis . . . can look like this.",
    "She said 'hello' and left.",
    "Temperatures reached 40 C. The city was quiet.",
    "A. B. Carter is the new chair.",
    "It costs 1,000,000 dollars -- a lot of money.",
    "Really?! That is surprising.",
    "The file is named report.final.v2.docx and it is big.",
    "Item 1: buy milk. Item 2: call Mom.",
    "First, mix the flour; second, add the eggs.",
    "Our team (the best one!) won again.",
    "He said: \u201cWe will be there.\u201d Then he left.",
    "\u00abBonjour\u00bb, dit-il. Il est parti.",
    "The 1990s were a decade of change.",
    "Go to sec. 4.2 for more.",
    "I love N.Y. in the fall.",
    "They arrived at 5 p.m. The show had started.",
    "Mrs. Jones and Ms. Lee are neighbours.",
    "Was it 3.? Or maybe 4.?",
    "Welcome to the jungle.",
    "This sentence has no final punctuation",
]

UPPER_ENGLISH = [
    "THIS IS A TEST OF THE EMERGENCY BROADCAST SYSTEM.",
    "I CAN'T BELIEVE WE WON THE GAME LAST NIGHT!",
    "PLEASE READ THE INSTRUCTIONS CAREFULLY BEFORE YOU BEGIN.",
    "THE U.S.A. IS A BIG COUNTRY WITH MANY STATES.",
    "WE'RE GONNA NEED A BIGGER BOAT, AREN'T WE?",
    "YOU CANNOT BE SERIOUS ABOUT THIS PLAN.",
]

LOWER_ENGLISH = [
    "this is a simple sentence written in lowercase letters.",
    "we went to the market and bought some apples and bread.",
    "please make sure that you read every word of this note.",
    "the weather today is sunny with a light breeze from the west.",
    "i think that we should leave early to avoid the traffic.",
]

LANGUAGE_TEXT = {
    "en": "The weather is lovely today and we are going to the park with our friends.",
    "es": "El clima est\u00e1 muy agradable hoy y vamos a ir al parque con nuestros amigos.",
    "pt": "O tempo est\u00e1 muito bom hoje e n\u00f3s vamos ao parque com os nossos amigos.",
    "ar": "\u0627\u0644\u0637\u0642\u0633 \u062c\u0645\u064a\u0644 \u0627\u0644\u064a\u0648\u0645 \u0648\u0633\u0646\u0630\u0647\u0628 \u0625\u0644\u0649 \u0627\u0644\u062d\u062f\u064a\u0642\u0629 \u0645\u0639 \u0623\u0635\u062f\u0642\u0627\u0626\u0646\u0627.",
    "hi": "\u0906\u091c \u092e\u094c\u0938\u092e \u092c\u0939\u0941\u0924 \u0905\u091a\u094d\u091b\u093e \u0939\u0948 \u0914\u0930 \u0939\u092e \u0905\u092a\u0928\u0947 \u0926\u094b\u0938\u094d\u0924\u094b\u0902 \u0915\u0947 \u0938\u093e\u0925 \u092a\u093e\u0930\u094d\u0915 \u091c\u093e \u0930\u0939\u0947 \u0939\u0948\u0902\u0964",
    "fr": "Il fait tr\u00e8s beau aujourd'hui et nous allons au parc avec nos amis.",
    "ru": "\u0421\u0435\u0433\u043e\u0434\u043d\u044f \u043e\u0442\u043b\u0438\u0447\u043d\u0430\u044f \u043f\u043e\u0433\u043e\u0434\u0430, \u0438 \u043c\u044b \u0438\u0434\u0451\u043c \u0432 \u043f\u0430\u0440\u043a \u0441 \u043d\u0430\u0448\u0438\u043c\u0438 \u0434\u0440\u0443\u0437\u044c\u044f\u043c\u0438.",
    "de": "Das Wetter ist heute sehr sch\u00f6n und wir gehen mit unseren Freunden in den Park.",
    "ja": "\u4eca\u65e5\u306f\u3068\u3066\u3082\u3044\u3044\u5929\u6c17\u306a\u306e\u3067\u3001\u53cb\u9054\u3068\u4e00\u7dd2\u306b\u516c\u5712\u3078\u884c\u304d\u307e\u3059\u3002",
    "it": "Oggi il tempo \u00e8 molto bello e andiamo al parco con i nostri amici.",
    "bn": "\u0986\u099c \u0986\u09ac\u09b9\u09be\u0993\u09af\u09bc\u09be \u0996\u09c1\u09ac \u09b8\u09c1\u09a8\u09cd\u09a6\u09b0 \u098f\u09ac\u0982 \u0986\u09ae\u09b0\u09be \u0986\u09ae\u09be\u09a6\u09c7\u09b0 \u09ac\u09a8\u09cd\u09a7\u09c1\u09a6\u09c7\u09b0 \u09b8\u09be\u09a5\u09c7 \u09aa\u09be\u09b0\u09cd\u0995\u09c7 \u09af\u09be\u099a\u09cd\u099b\u09bf\u0964",
    "uk": "\u0421\u044c\u043e\u0433\u043e\u0434\u043d\u0456 \u0447\u0443\u0434\u043e\u0432\u0430 \u043f\u043e\u0433\u043e\u0434\u0430, \u0456 \u043c\u0438 \u0439\u0434\u0435\u043c\u043e \u0434\u043e \u043f\u0430\u0440\u043a\u0443 \u0437 \u043d\u0430\u0448\u0438\u043c\u0438 \u0434\u0440\u0443\u0437\u044f\u043c\u0438.",
    "th": "\u0e27\u0e31\u0e19\u0e19\u0e35\u0e49\u0e2d\u0e32\u0e01\u0e32\u0e28\u0e14\u0e35\u0e21\u0e32\u0e01 \u0e41\u0e25\u0e30\u0e40\u0e23\u0e32\u0e08\u0e30\u0e44\u0e1b\u0e2a\u0e27\u0e19\u0e2a\u0e32\u0e18\u0e32\u0e23\u0e13\u0e30\u0e01\u0e31\u0e1a\u0e40\u0e1e\u0e37\u0e48\u0e2d\u0e19\u0e46",
    "ur": "\u0622\u062c \u0645\u0648\u0633\u0645 \u0628\u06c1\u062a \u0627\u0686\u06be\u0627 \u06c1\u06d2 \u0627\u0648\u0631 \u06c1\u0645 \u0627\u067e\u0646\u06d2 \u062f\u0648\u0633\u062a\u0648\u06ba \u06a9\u06d2 \u0633\u0627\u062a\u06be \u067e\u0627\u0631\u06a9 \u062c\u0627 \u0631\u06c1\u06d2 \u06c1\u06cc\u06ba\u06d4",
    "ta": "\u0b87\u0ba9\u0bcd\u0bb1\u0bc1 \u0bb5\u0bbe\u0ba9\u0bbf\u0bb2\u0bc8 \u0bae\u0bbf\u0b95\u0bb5\u0bc1\u0bae\u0bcd \u0ba8\u0ba9\u0bcd\u0bb1\u0bbe\u0b95 \u0b89\u0bb3\u0bcd\u0bb3\u0ba4\u0bc1, \u0ba8\u0bbe\u0b99\u0bcd\u0b95\u0bb3\u0bcd \u0ba8\u0ba3\u0bcd\u0baa\u0bb0\u0bcd\u0b95\u0bb3\u0bc1\u0b9f\u0ba9\u0bcd \u0baa\u0bc2\u0b99\u0bcd\u0b95\u0bbe\u0bb5\u0bbf\u0bb1\u0bcd\u0b95\u0bc1\u0b9a\u0bcd \u0b9a\u0bc6\u0bb2\u0bcd\u0b95\u0bbf\u0bb1\u0bcb\u0bae\u0bcd.",
    "te": "\u0c08\u0c30\u0c4b\u0c1c\u0c41 \u0c35\u0c3e\u0c24\u0c3e\u0c35\u0c30\u0c23\u0c02 \u0c1a\u0c3e\u0c32\u0c3e \u0c2c\u0c3e\u0c17\u0c41\u0c02\u0c26\u0c3f, \u0c2e\u0c47\u0c2e\u0c41 \u0c2e\u0c3e \u0c38\u0c4d\u0c28\u0c47\u0c39\u0c3f\u0c24\u0c41\u0c32\u0c24\u0c4b \u0c2a\u0c3e\u0c30\u0c4d\u0c15\u0c41\u0c15\u0c41 \u0c35\u0c46\u0c33\u0c41\u0c24\u0c41\u0c28\u0c4d\u0c28\u0c3e\u0c2e\u0c41.",
    "bg": "\u0414\u043d\u0435\u0441 \u0432\u0440\u0435\u043c\u0435\u0442\u043e \u0435 \u043c\u043d\u043e\u0433\u043e \u0445\u0443\u0431\u0430\u0432\u043e \u0438 \u043d\u0438\u0435 \u043e\u0442\u0438\u0432\u0430\u043c\u0435 \u0432 \u043f\u0430\u0440\u043a\u0430 \u0441 \u043f\u0440\u0438\u044f\u0442\u0435\u043b\u0438\u0442\u0435 \u0441\u0438.",
    "ko": "\uc624\ub298\uc740 \ub0a0\uc528\uac00 \uc815\ub9d0 \uc88b\uc544\uc11c \uce5c\uad6c\ub4e4\uacfc \ud568\uaed8 \uacf5\uc6d0\uc5d0 \uac11\ub2c8\ub2e4.",
    "pl": "Dzisiaj jest bardzo \u0142adna pogoda i idziemy do parku z naszymi przyjaci\u00f3\u0142mi.",
    "he": "\u05d4\u05d9\u05d5\u05dd \u05de\u05d6\u05d2 \u05d4\u05d0\u05d5\u05d5\u05d9\u05e8 \u05e0\u05e4\u05dc\u05d0 \u05d5\u05d0\u05e0\u05d7\u05e0\u05d5 \u05d4\u05d5\u05dc\u05db\u05d9\u05dd \u05dc\u05e4\u05d0\u05e8\u05e7 \u05e2\u05dd \u05d4\u05d7\u05d1\u05e8\u05d9\u05dd \u05e9\u05dc\u05e0\u05d5.",
    "fa": "\u0627\u0645\u0631\u0648\u0632 \u0647\u0648\u0627 \u062e\u06cc\u0644\u06cc \u062e\u0648\u0628 \u0627\u0633\u062a \u0648 \u0645\u0627 \u0628\u0627 \u062f\u0648\u0633\u062a\u0627\u0646\u0645\u0627\u0646 \u0628\u0647 \u067e\u0627\u0631\u06a9 \u0645\u06cc\u200c\u0631\u0648\u06cc\u0645.",
    "vi": "H\u00f4m nay th\u1eddi ti\u1ebft r\u1ea5t \u0111\u1eb9p v\u00e0 ch\u00fang t\u00f4i s\u1ebd \u0111i c\u00f4ng vi\u00ean c\u00f9ng v\u1edbi b\u1ea1n b\u00e8.",
    "ne": "\u0906\u091c \u092e\u094c\u0938\u092e \u0927\u0947\u0930\u0948 \u0930\u093e\u092e\u094d\u0930\u094b \u091b \u0930 \u0939\u093e\u092e\u0940 \u0906\u092b\u094d\u0928\u093e \u0938\u093e\u0925\u0940\u0939\u0930\u0942\u0938\u0901\u0917 \u092a\u093e\u0930\u094d\u0915 \u091c\u093e\u0901\u0926\u0948\u091b\u094c\u0902\u0964",
    "sw": "Leo hali ya hewa ni nzuri sana na tunakwenda kwenye bustani pamoja na marafiki zetu.",
    "kn": "\u0c87\u0c82\u0ca6\u0cc1 \u0cb9\u0cb5\u0cbe\u0cae\u0cbe\u0ca8 \u0ca4\u0cc1\u0c82\u0cac\u0cbe \u0c9a\u0cc6\u0ca8\u0ccd\u0ca8\u0cbe\u0c97\u0cbf\u0ca6\u0cc6 \u0cae\u0ca4\u0ccd\u0ca4\u0cc1 \u0ca8\u0cbe\u0cb5\u0cc1 \u0ca8\u0cae\u0ccd\u0cae \u0cb8\u0ccd\u0ca8\u0cc7\u0cb9\u0cbf\u0ca4\u0cb0\u0cca\u0c82\u0ca6\u0cbf\u0c97\u0cc6 \u0c89\u0ca6\u0ccd\u0caf\u0cbe\u0ca8\u0cb5\u0ca8\u0ccd\u0ca8\u0cc1 \u0cb9\u0ccb\u0c97\u0cc1\u0ca4\u0ccd\u0ca4\u0cbf\u0ca6\u0ccd\u0ca6\u0cc7\u0cb5\u0cc6.",
    "mr": "\u0906\u091c \u0939\u0935\u093e\u092e\u093e\u0928 \u0916\u0942\u092a \u091b\u093e\u0928 \u0906\u0939\u0947 \u0906\u0923\u093f \u0906\u092e\u094d\u0939\u0940 \u0906\u092e\u091a\u094d\u092f\u093e \u092e\u093f\u0924\u094d\u0930\u093e\u0902\u0938\u094b\u092c\u0924 \u092c\u093e\u0917\u0947\u0924 \u091c\u093e\u0924 \u0906\u0939\u094b\u0924.",
    "gu": "\u0a86\u0a9c\u0ac7 \u0ab9\u0ab5\u0abe\u0aae\u0abe\u0aa8 \u0a96\u0ac2\u0aac \u0ab8\u0ab0\u0ab8 \u0a9b\u0ac7 \u0a85\u0aa8\u0ac7 \u0a85\u0aae\u0ac7 \u0a85\u0aae\u0abe\u0ab0\u0abe \u0aae\u0abf\u0aa4\u0acd\u0ab0\u0acb \u0ab8\u0abe\u0aa5\u0ac7 \u0aac\u0a97\u0ac0\u0a9a\u0abe\u0aae\u0abe\u0a82 \u0a9c\u0a88 \u0ab0\u0ab9\u0acd\u0aaf\u0abe \u0a9b\u0ac0\u0a8f.",
    "pa": "\u0a05\u0a71\u0a1c \u0a2e\u0a4c\u0a38\u0a2e \u0a2c\u0a39\u0a41\u0a24 \u0a35\u0a27\u0a40\u0a06 \u0a39\u0a48 \u0a05\u0a24\u0a47 \u0a05\u0a38\u0a40\u0a02 \u0a06\u0a2a\u0a23\u0a47 \u0a26\u0a4b\u0a38\u0a24\u0a3e\u0a02 \u0a28\u0a3e\u0a32 \u0a2a\u0a3e\u0a30\u0a15 \u0a35\u0a3f\u0a71\u0a1a \u0a1c\u0a3e \u0a30\u0a39\u0a47 \u0a39\u0a3e\u0a02\u0964",
    "ml": "\u0d07\u0d28\u0d4d\u0d28\u0d4d \u0d15\u0d3e\u0d32\u0d3e\u0d35\u0d38\u0d4d\u0d25 \u0d35\u0d33\u0d30\u0d46 \u0d28\u0d32\u0d4d\u0d32\u0d24\u0d3e\u0d23\u0d4d, \u0d1e\u0d19\u0d4d\u0d19\u0d7e \u0d38\u0d41\u0d39\u0d43\u0d24\u0d4d\u0d24\u0d41\u0d15\u0d4d\u0d15\u0d33\u0d4b\u0d1f\u0d4a\u0d2a\u0d4d\u0d2a\u0d02 \u0d2a\u0d3e\u0d7c\u0d15\u0d4d\u0d15\u0d3f\u0d32\u0d47\u0d15\u0d4d\u0d15\u0d4d \u0d2a\u0d4b\u0d15\u0d41\u0d28\u0d4d\u0d28\u0d41.",
    "fi": "T\u00e4n\u00e4\u00e4n on todella kaunis s\u00e4\u00e4 ja menemme puistoon yst\u00e4viemme kanssa.",
    "zh-cn": "\u4eca\u5929\u5929\u6c14\u5f88\u597d\uff0c\u6211\u4eec\u548c\u670b\u53cb\u4eec\u4e00\u8d77\u53bb\u516c\u56ed\u73a9\u3002",
    "nl": "Het weer is vandaag erg mooi en we gaan met onze vrienden naar het park.",
    "tr": "Bug\u00fcn hava \u00e7ok g\u00fczel ve arkada\u015flar\u0131m\u0131zla birlikte parka gidiyoruz.",
}

UNICODE_SNIPPETS = [
    "caf\u00e9", "na\u00efve", "\u0130stanbul", "\u0131l\u0131k", "\u017fome", "\u212aelvin", "stra\u00dfe", "\u03a3\u039f\u03a6\u039f\u03a3",
    "\u00c9COLE", "\u2162", "\u00bd", "\u0661\u0662\u0663", "\uff21\uff22\uff23", "\u1e9e", "\u01c5", "e\u0301", "\U0001F600",
    "\u2014", "\u2013", "\u2026", "\u00a0", "\u3000", "\u2028", "\x1c", "\u200b", "\ufeff",
]

MARKDOWN_LINES = [
    "* First point", "- Second point", "+ Plus item", "1. Numbered item", "  * Indented star", "\t- Tab dash",
    "*Emphasis line*", "**Bold line**", "***", "---", "* ", "*", "-", "-- double dash", "*  * spaced stars",
]


def sentences(rng, n, pool=ENGLISH):
    return [rng.choice(pool) for _ in range(n)]


def english_text(rng, n=3, sep=" "):
    return sep.join(sentences(rng, n))


def prompt_text(rng, rows):
    return rng.choice(rows)["prompt"]


def with_loose_noise(rng, body):
    """Wrap a body in the chatter the loose variants strip: a first line, a last line, asterisks."""
    first = rng.choice(["Sure, here is my answer:", "**Answer**", "Here you go!", "*Response*", ""])
    last = rng.choice(["Let me know if you need more.", "*Hope this helps*", "---", ""])
    parts = [p for p in (first, body, last) if p]
    return "\n".join(parts)


# ---- keywords ---------------------------------------------------------------------------------


def keywords_existence(c, rng, rows):
    iid = "keywords:existence"
    cases = [
        (["cat"], "The cat sat on the mat."),
        (["cat"], "The CAT sat."),
        (["cat"], "Concatenate the strings."),
        (["cat"], "A dog sat."),
        (["mom", "mother"], "My mother called Mom."),
        (["mom", "mother"], "My mother called."),
        (["rate", "rte"], "The rate is high."),
        (["istanbul"], "\u0130stanbul is big."),
        (["ilik"], "\u0131l\u0131k su"),
        (["kelvin"], "\u212aelvin degrees"),
        (["some"], "\u017fome text"),
        (["stra\u00dfe"], "STRASSE and Stra\u00dfe"),
        (["\u03c3\u03bf\u03c6\u03bf\u03c2"], "\u03a3\u039f\u03a6\u039f\u03a3 \u03bb\u03cc\u03b3\u03bf\u03c2"),
        (["caf\u00e9"], "CAF\u00c9 au lait"),
        (["u.s"], "The US army"),
        (["u.s"], "The U.S. army"),
        (["python", "java"], "I like Python and JavaScript."),
        (["python", "java"], "I like Python."),
        (["zelda", "hyrule", "link", "ganon"], "Zelda lives in Hyrule; Link fights Ganon."),
        (["brilliant", "le", "hou"], "A brilliant hour."),
    ]
    for kws, text in cases:
        c.add("keywords:existence/edge", iid, {"keywords": kws}, text)
    words = ["river", "land", "festival", "green", "energy", "climate", "people", "skills", "trust", "brand"]
    for _ in range(40):
        kws = rng.sample(words, rng.randint(1, 3))
        text = english_text(rng, 2)
        for kw in kws:
            if rng.random() < 0.7:
                variant = rng.choice([kw, kw.upper(), kw.title(), kw + "s", "un" + kw])
                text = text + " " + variant + rng.choice([".", ",", "!", ""])
        c.add("keywords:existence/random", iid, {"keywords": kws}, with_loose_noise(rng, text))


def keywords_frequency(c, rng, rows):
    iid = "keywords:frequency"
    for keyword in ["story", "the", "war", "fake", "para", "sarah", "unfortunately"]:
        for target in (1, 2, 3, 5):
            for actual in (target - 1, target, target + 1):
                if actual < 0:
                    continue
                pieces = sentences(rng, 3)
                for _ in range(actual):
                    pieces.insert(rng.randrange(len(pieces) + 1), rng.choice([keyword, keyword.upper(), keyword.title()]))
                text = " ".join(pieces)
                for relation in ("less than", "at least"):
                    c.add("keywords:frequency/boundary", iid, {"keyword": keyword, "frequency": target, "relation": relation}, text)
    odd = [
        ("aa", "aaaa", 2), ("aa", "aaa", 2), ("the", "theTHEthe", 3), ("ab", "ABab\u0391\u0392", 2),
        (" story ", "story story", 2), ("k", "\u212a k K", 3), ("s", "\u017f s S \u00df", 3), ("i", "\u0130 \u0131 I i", 4),
        ("para", "Paragraph para PARA", 3), ("war", "war\nwar\twar", 3),
    ]
    for keyword, text, n in odd:
        for relation in ("less than", "at least"):
            for f in (n - 1, n, n + 1):
                if f > 0:
                    c.add("keywords:frequency/overlap-unicode", iid, {"keyword": keyword, "frequency": f, "relation": relation}, text)


def forbidden_words(c, rng, rows):
    iid = "keywords:forbidden_words"
    cases = [
        (["cat"], "cats are great"), (["cat"], "a cat's toy"), (["cat"], "a CAT."), (["cat"], "concat"),
        (["caf"], "caf\u00e9"), (["caf"], "caf-au-lait"), (["cafe"], "caf\u00e9"), (["die"], "did he die?"),
        (["die"], "diet"), (["die"], "die_hard"), (["die"], "die2"), (["die"], "2die"), (["yes", "no"], "No way"),
        (["yes", "no"], "nope, yessir"), (["BC"], "500 bc"), (["BC"], "500 BCE"), (["heute"], "Heute ist"),
        (["schlau"], "schlauer Fuchs"), (["name", "rename"], "Rename it"), (["can", "ride"], "I can't ride"),
        (["can", "ride"], "uncanny ridge"), (["steps", "step"], "step-by-step"), (["key"], "\u212aEY"),
        (["istanbul"], "\u0130STANBUL"), (["i"], "\u0131"), (["json"], "JSON_data"), (["json"], "JSON-data"),
        (["\u00e9cole"], "\u00c9COLE"), (["na\u00efve"], "NA\u00cfVE"), (["re"], "r\u00e9sum\u00e9"),
        (["rock"], "ROCK\u2019n\u2019roll"), (["rock"], "rock\u0301"), (["jock"], ""), (["kill"], "killer"),
    ]
    for words, text in cases:
        c.add("keywords:forbidden_words/edge", iid, {"forbidden_words": words}, text)
    pool = ["story", "killer", "dead", "found", "law", "room", "kill", "result", "use", "approach", "people", "president"]
    for _ in range(30):
        words = rng.sample(pool, rng.randint(1, 4))
        text = english_text(rng, 3)
        if rng.random() < 0.5:
            w = rng.choice(words)
            text += " " + rng.choice([w, w.upper(), w + "ed", w + "'s", "(" + w + ")", w + "_x", "\u00e9" + w])
        c.add("keywords:forbidden_words/random", iid, {"forbidden_words": words}, with_loose_noise(rng, text))


def letter_frequency(c, rng, rows):
    iid = "keywords:letter_frequency"
    for letter in "aeiqz":
        for target in (1, 3, 8):
            for actual in (target - 1, target, target + 1):
                body = "".join(rng.choice("bcdfghjklmnprstvwxy ") for _ in range(30))
                body = "".join(ch for ch in body if ch != letter)
                for _ in range(actual):
                    pos = rng.randrange(len(body) + 1)
                    body = body[:pos] + rng.choice([letter, letter.upper()]) + body[pos:]
                for relation in ("less than", "at least"):
                    c.add("keywords:letter_frequency/boundary", iid, {"letter": letter, "let_frequency": target, "let_relation": relation}, body)
    special = [("i", "\u0130\u0130\u0130"), ("k", "\u212a\u212a"), ("s", "\u017f\u00df\u1e9e"), ("a", "\u00e1\u00e0\u00c1"), ("e", "EEE eee")]
    for letter, text in special:
        for f in (1, 2, 3, 4, 6, 7):
            c.add("keywords:letter_frequency/unicode", iid, {"letter": letter, "let_frequency": f, "let_relation": "at least"}, text)


# ---- language -----------------------------------------------------------------------------------


def response_language(c, rng, rows):
    iid = "language:response_language"
    codes = ["en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it", "bn", "uk", "th", "ur", "ta", "te", "bg", "ko",
             "pl", "he", "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa", "ml", "fi"]
    langs = sorted(LANGUAGE_TEXT)
    for code in codes:
        text = LANGUAGE_TEXT.get(code)
        if text is None:
            continue
        c.add("language/native", iid, {"language": code}, text)
        c.add("language/native-x2", iid, {"language": code}, text + "\n\n" + text)
        other = rng.choice([l for l in langs if l != code])
        c.add("language/other", iid, {"language": code}, LANGUAGE_TEXT[other])
        c.add("language/mixed", iid, {"language": code}, text + " " + LANGUAGE_TEXT["en"])
        c.add("language/mixed-short-en", iid, {"language": code}, text + " OK thanks")
        c.add("language/with-url", iid, {"language": code}, text + " https://example.com/a?b=c user@example.org")
        c.add("language/upper", iid, {"language": code}, text.upper())
        c.add("language/loose", iid, {"language": code}, "Here is the answer:\n" + text + "\nThanks!")
    for text in ["12345 67890", "!!! ??? ...", "https://example.com", "a@b.co", "\U0001F600\U0001F600", "   ", "OK", "Hola", "Ciao amici", "\u00bfQu\u00e9?"]:
        for code in ("en", "es", "it"):
            c.add("language/no-features-or-short", iid, {"language": code}, text)
    for _ in range(20):
        a, b = rng.sample(langs, 2)
        code = rng.choice([a, b])
        c.add("language/random-mix", iid, {"language": code if code in codes else "en"},
              LANGUAGE_TEXT[a] + rng.choice([" ", "\n", "\n\n"]) + LANGUAGE_TEXT[b])


# ---- length constraints ---------------------------------------------------------------------


def number_sentences(c, rng, rows):
    iid = "length_constraints:number_sentences"
    for s in ENGLISH:  # one sentence at a time: each abbreviation/quote/decimal case alone
        for n in (1, 2):
            c.add("number_sentences/single", iid, {"num_sentences": n, "relation": "less than"}, s)
    for _ in range(120):
        k = rng.randint(1, 12)
        sep = rng.choice([" ", "  ", "\n", "\n\n", " \n"])
        text = sep.join(sentences(rng, k))
        threshold = max(1, k + rng.choice([-1, 0, 1, 2]))
        relation = rng.choice(["less than", "at least"])
        c.add("number_sentences/random", iid, {"num_sentences": threshold, "relation": relation}, with_loose_noise(rng, text) if rng.random() < 0.3 else text)
    for _ in range(40):
        text = prompt_text(rng, rows)
        c.add("number_sentences/prompts", iid, {"num_sentences": rng.randint(1, 8), "relation": rng.choice(["less than", "at least"])}, text)
    lists = [
        "Here are the steps:\n1. Preheat the oven.\n2. Mix the batter.\n3. Bake for 20 min.\nEnjoy!",
        "* Point one.\n* Point two\n* Point three.",
        "Title: My Day\n\nI woke up. I ate breakfast.",
        "(Sent1.) Sent2.",
        '"Hello." "Goodbye."',
        "He said \u201cyes.\u201d She said \u201cno.\u201d",
        "What?! No way!! Really???",
        "The end...",
        "Mr. Smith. Mrs. Smith.",
        "a. b. c. d.",
        "Section 1. Introduction. Section 2. Methods.",
        "e.g. this. i.e. that.",
        "The U.S. The U.K. The E.U.",
        "It is 5 p.m. Time to go.",
        "Call 911. Now.",
        "1. 2. 3. 4.",
        "No.. two dots.. here",
        "\u00bfD\u00f3nde est\u00e1? \u00a1Aqu\u00ed!",
        "\u4eca\u5929\u5f88\u597d\u3002\u660e\u5929\u4e5f\u597d\u3002",
        "Line one\nLine two\nLine three",
        "",
    ]
    for text in lists:
        for n in (1, 2, 3, 4):
            c.add("number_sentences/structure", iid, {"num_sentences": n, "relation": "at least"}, text)


def number_paragraphs(c, rng, rows):
    iid = "length_constraints:number_paragraphs"
    bodies = [
        "A\n***\nB\n***\nC", "A ***B*** C", "A***B", "***\nA\n***\nB\n***", "A\n***\n\n***\nB", "A\n****\nB",
        "A\n* * *\nB", "A\n\u00a0***\u00a0\nB", "A\n\n***\n\nB", "***", "A", "", "A\n***\n   \n***\nB",
        "A **bold** B\n***\nC", "A\n***\nB\n***\nC\n***\nD\n***\nE", "A\t***\tB", "A\u3000***\u3000B",
    ]
    for body in bodies:
        for n in (1, 2, 3, 5):
            c.add("number_paragraphs/edge", iid, {"num_paragraphs": n}, body)
    for _ in range(40):
        k = rng.randint(1, 6)
        paras = [english_text(rng, rng.randint(1, 3)) for _ in range(k)]
        sep = rng.choice(["\n***\n", "\n\n***\n\n", " *** ", "***"])
        text = sep.join(paras)
        c.add("number_paragraphs/random", iid, {"num_paragraphs": max(1, k + rng.choice([-1, 0, 0, 1]))}, with_loose_noise(rng, text))


def number_words(c, rng, rows):
    iid = "length_constraints:number_words"
    tricky = [
        "don't stop-believing", "e-mail re_do x2 3.14", "caf\u00e9 na\u00efve r\u00e9sum\u00e9", "\u4eca\u5929\u5929\u6c14",
        "\u0e27\u0e31\u0e19\u0e19\u0e35\u0e49 \u0e14\u0e35", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
        "a\u0301b\u0301", "\u00bd \u2162 \u00b2", "___ -- ...", "one\u200btwo", "\U0001F600 smile", "",
    ]
    for text in tricky:
        for n in (1, 2, 3, 4):
            for relation in ("less than", "at least"):
                c.add("number_words/tricky", iid, {"num_words": n, "relation": relation}, text)
    for _ in range(60):
        text = english_text(rng, rng.randint(1, 15))
        n = len(re.findall(r"\w+", text))
        c.add("number_words/boundary", iid, {"num_words": max(1, n + rng.choice([-1, 0, 1])), "relation": rng.choice(["less than", "at least"])}, with_loose_noise(rng, text))


def nth_paragraph_first_word(c, rng, rows):
    iid = "length_constraints:nth_paragraph_first_word"
    cases = [
        ("Weekend plans.\n\nSummary here.", 2, 2, "summary"),
        ("Weekend plans.\n\nSummary, here.", 2, 2, "summary"),
        ("Weekend plans.\n\n\"Summary\" here.", 2, 2, "summary"),
        ("Weekend plans.\n\n'Summary' here.", 2, 2, "summary"),
        ("Weekend plans.\n\n**Summary** here.", 2, 2, "summary"),
        ("Weekend plans.\n\n  summary here.", 2, 2, "summary"),
        ("Weekend plans.\n\n\n\nSummary here.", 2, 2, "summary"),
        ("\n\nWeekend plans.\n\nSummary here.", 2, 2, "summary"),
        ("Weekend plans.\n\nSummary here.\n\n", 2, 2, "summary"),
        ("Weekend plans.\nSummary here.", 2, 2, "summary"),
        ("Weekend plans.\n\nSummary's here.", 2, 2, "summary"),
        ("Weekend plans.\n\nSummary-here.", 2, 2, "summary-here"),
        ("Weekend plans.\n\nSUMMARY here.", 2, 2, "summary"),
        ("Weekend plans.\n\nSummary here.", 3, 2, "summary"),
        ("Weekend plans.\n\nSummary here.", 2, 1, "weekend"),
        ("Weekend\n\n\n\nplans", 2, 2, "plans"),
        ("\u0130t is.\n\nOk.", 2, 1, "i\u0307t"),
        ("It.\n\nIt?\n\nIt!", 3, 3, "it"),
        ("A\n\n \n\nB", 2, 2, "b"),
        ("A\n\n \n\nB", 3, 2, "b"),
        ("A\n\n\n\nB\n\nC", 3, 3, "c"),
        ("\n\nA\n\nB", 2, 1, "a"),
    ]
    for text, num, nth, word in cases:
        c.add("nth_paragraph/edge", iid, {"num_paragraphs": num, "nth_paragraph": nth, "first_word": word}, text)
    for _ in range(40):
        k = rng.randint(1, 5)
        paras = [english_text(rng, 2) for _ in range(k)]
        nth = rng.randint(1, k)
        first = paras[nth - 1].split()[0].strip("\"'.,!?").lower() or "x"
        if rng.random() < 0.3:
            first = rng.choice(["summary", "the", "it"])
        # nth_paragraph <= num_paragraphs: beyond it the reference draws a random paragraph number.
        c.add("nth_paragraph/random", iid, {"num_paragraphs": max(nth, k + rng.choice([0, 0, -1, 1])), "nth_paragraph": nth, "first_word": first},
              rng.choice(["\n\n", "\n\n\n"]).join(paras))


# ---- detectable content / format ------------------------------------------------------------


def number_placeholders(c, rng, rows):
    iid = "detectable_content:number_placeholders"
    texts = ["[name] [address]", "[]", "[a\nb]", "[[nested]]", "[a] [b] [c]", "[open", "close]", "[a]]", "\u3010x\u3011 [y]",
             "Dear [Name],\nYour order [order id] ships to [Address].", "", "[\u00e9]", "[a][b]"]
    for text in texts:
        for n in (1, 2, 3):
            c.add("placeholders/edge", iid, {"num_placeholders": n}, text)
    for _ in range(20):
        k = rng.randint(0, 6)
        text = english_text(rng, 2) + " " + " ".join(f"[field {i}]" for i in range(k))
        c.add("placeholders/random", iid, {"num_placeholders": max(1, k + rng.choice([-1, 0, 1]))}, text)


def postscript(c, rng, rows):
    iid = "detectable_content:postscript"
    texts = [
        "Body.\nP.S. See you.", "Body.\np.s. see you.", "Body.\nP. S. See you.", "Body.\nPS See you.", "Body. P.S. inline",
        "Body.\nP.P.S. More.", "Body.\nP. P. S. More.", "Body.\nPPS More.", "Body.\nP.P.S More", "Body.\np.p.s",
        "Body.\nP.\nS. split", "Body.\nP.S.", "P.S.", "Body.\n\u0050.S. unicode", "Body.\nP.s. mixed", "Body.\nP.S no dot",
        "Body.\n**P.S.** bold", "Body.\nP.\tS. tab", "",
    ]
    for text in texts:
        for marker in ("P.S.", "P.P.S"):
            c.add("postscript/edge", iid, {"postscript_marker": marker}, text)
    for marker in ("P.S", "p.s.", "Note:", "P.P.P.S"):
        for text in ["x\nP.S. y", "x\nPPS y", "x\nNote: y", "x\nnote: y", "x\nP.P.P.S y", "x\npXsX y"]:
            c.add("postscript/other-marker", iid, {"postscript_marker": marker}, text)


def number_bullet_lists(c, rng, rows):
    iid = "detectable_format:number_bullet_lists"
    texts = [
        "* a\n* b", "- a\n- b", "* a\n- b\n+ c", "*a\n*b", "**bold**\n* a", "* a\n\n* b", "  * a\n\t* b", "*\n*\n*",
        "---\n* a", "- a\n  - nested\n- b", "*  \n* b", "* a\n*", "text * not bullet", "1. a\n2. b", "", "\n\n* a",
        "* a\r\n* b", "\u2022 a\n\u2022 b", "*\u00a0a", "**\n* a",
    ]
    for text in texts:
        for n in (1, 2, 3):
            c.add("bullets/edge", iid, {"num_bullets": n}, text)
    for _ in range(40):
        k = rng.randint(0, 6)
        lines = [rng.choice(["* ", "- ", "  * ", "+ "]) + rng.choice(ENGLISH) for _ in range(k)]
        extra = rng.sample(MARKDOWN_LINES, rng.randint(0, 2))
        body = "\n".join(lines + extra)
        c.add("bullets/random", iid, {"num_bullets": max(1, k + rng.choice([-1, 0, 1]))}, with_loose_noise(rng, body))


def constrained_response(c, rng, rows):
    iid = "detectable_format:constrained_response"
    for text in ["My answer is yes.", "My answer is no.", "My answer is maybe.", "my answer is yes.", "My answer is yes",
                 "Well... My answer is no. Because.", "My answer is Yes.", "  My answer is maybe.  ", "", "Yes."]:
        c.add("constrained/edge", iid, {}, text)


def number_highlighted_sections(c, rng, rows):
    iid = "detectable_format:number_highlighted_sections"
    texts = [
        "*a* *b*", "**a** **b**", "***a***", "* *", "** **", "*a\nb*", "*a**b*", "*\u00e9*", "*a* and **b** and ***c***",
        "* a *", "*a*b*c*", "**", "", "*\u3000*", "***\n*x*", "*a*\n*b*\n*c*", "**x**y**z**",
    ]
    for text in texts:
        for n in (1, 2, 3):
            c.add("highlights/edge", iid, {"num_highlights": n}, text)
    for _ in range(30):
        k = rng.randint(0, 5)
        parts = sentences(rng, 3)
        for _ in range(k):
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(["*{}*", "**{}**"]).format(rng.choice(["Key", "Note", "Tip"])))
        c.add("highlights/random", iid, {"num_highlights": max(1, k + rng.choice([-1, 0, 1]))}, " ".join(parts))


def multiple_sections(c, rng, rows):
    iid = "detectable_format:multiple_sections"
    texts = [
        "Section 1\nA\nSection 2\nB", "SECTION 1 A SECTION 2 B", "Section1 A Section2 B", "Section X A", "section 1 a section 2 b",
        "Section \u0661 A Section \u0662 B", "Section 1\n\nSection 2\n\nSection 3", "Sections 1", "Section  1", "Day 1: x Day 2: y",
        "PARAGRAPH 1 a PARAGRAPH 2 b", "Audience 1\nAudience 2", "Section 12 Section 13", "", "Section 1",
    ]
    for text in texts:
        for spliter in ("Section", "SECTION", "Day", "PARAGRAPH", "Audience"):
            for n in (1, 2, 3):
                c.add("sections/edge", iid, {"section_spliter": spliter, "num_sections": n}, text)


def json_format(c, rng, rows):
    iid = "detectable_format:json_format"
    texts = [
        '{"a": 1}', '```json\n{"a": 1}\n```', '```JSON\n{"a": 1}\n```', '```Json\n{"a": 1}\n```', '```\n{"a": 1}\n```',
        '```json{"a": 1}```', "[1, 2, 3]", '"string"', "42", "true", "null", "NaN", "-Infinity", "Infinity", "{a: 1}",
        "{'a': 1}", '{"a": 1,}', "[1,]", '{"a": 1} extra', 'Here is JSON: {"a": 1}', '{"a": "\ttab"}', '{"a": "\\ud800"}',
        '{"a": 1e5, "b": -0.5E-3}', "01", "1.", ".5", "\ufeff{}", '{"a": [1, {"b": null}]}', "", "```json\n```", "```",
        '``` json\n{"a":1}\n```', '```json\n{"a": 1}\n```\nSome text after', '  \n{"a": 1}\n  ', '{"\u00e9": "\u4e2d"}',
        "1" * 4301, "1" * 4300, "1" * 4400 + ".0", '{"a": 1}{"b": 2}', "[]", "{}", '```json\n```json\n{"x":1}\n```',
    ]
    for text in texts:
        c.add("json/edge", iid, {}, text)
    for _ in range(20):
        obj = {"name": rng.choice(ENGLISH), "n": rng.randint(0, 99), "tags": rng.sample(["a", "b", "c", "d"], 2)}
        body = json.dumps(obj, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 2]))
        c.add("json/random", iid, {}, with_loose_noise(rng, rng.choice(["```json\n{}\n```", "{}", "```\n{}\n```"]).format(body)))


def title(c, rng, rows):
    iid = "detectable_format:title"
    for text in ["<<Poem of Joy>>\nText", "<< >>", "<<>>", "<<a\nb>>", "<<a>> <<b>>", "<<<x>>>", "<< \u3000 >>",
                 "No title here", "<<<<>>>>", "<<a>", "Title: <<Hello>>", "", "<<\u00e9>>", "<<>>>", "<<a>>>", "<<<<a",
                 "<< a >> << >>", ">>a<<", "<< >> x <<b>>", "<<\r>>", "a\n<<\n>>\n<<ok>>", "<<x>>\n<< >>"]:
        c.add("title/edge", iid, {}, text)


def two_responses(c, rng, rows):
    iid = "combination:two_responses"
    for text in ["A\n******\nB", "A******A", "A ****** A ", "******A******B******", "A\n******\n\n******\nB", "A*******B",
                 "A\n******\nB\n******\nC", "A", "******", "A\n*****\nB", "x ****** y"]:
        c.add("two_responses/edge", iid, {}, text)


def repeat_prompt(c, rng, rows):
    iid = "combination:repeat_prompt"
    for _ in range(30):
        row = rng.choice(rows)
        prompt = row["prompt"]
        answer = english_text(rng, 2)
        variants = [prompt + "\n" + answer, prompt.upper() + " " + answer, "  " + prompt + answer, answer + prompt,
                    prompt[: len(prompt) // 2], "Sure! " + prompt + answer]
        c.add("repeat_prompt/random", iid, {"prompt_to_repeat": prompt}, rng.choice(variants), prompt=prompt)
    c.add("repeat_prompt/unicode", iid, {"prompt_to_repeat": "\u0130stanbul \u03a3\u039f\u03a6\u039f\u03a3"}, "i\u0307stanbul \u03c3\u03bf\u03c6\u03bf\u03c2 and more")
    c.add("repeat_prompt/unicode", iid, {"prompt_to_repeat": "\u03a3\u039f\u03a6\u039f\u03a3"}, "\u03c3\u03bf\u03c6\u03bf\u03c3 x")


def end_checker(c, rng, rows):
    iid = "startend:end_checker"
    phrase = "Is there anything else I can help with?"
    for text in [f"Hi. {phrase}", f"Hi. {phrase}  ", f'"Hi. {phrase}"', f"Hi. {phrase.lower()}", f"Hi. {phrase}.", f"{phrase} Bye.",
                 f"Hi. {phrase}\n\nThanks", f"Hi.\n{phrase}\n", "", f'Hi. {phrase}""', f"Hi. {phrase.upper()}"]:
        c.add("end_checker/edge", iid, {"end_phrase": phrase}, text)
    for p in ["Peace!", "in India.", "Call me at 631-481-4867", "  padded phrase  ", "\u03a3\u039f\u03a6\u039f\u03a3"]:
        for text in [f"Text {p}", f"Text {p.strip()}", f"Text {p.strip()} more", f"TEXT {p.strip().upper()}", "text \u03c3\u03bf\u03c6\u03bf\u03c2"]:
            c.add("end_checker/phrases", iid, {"end_phrase": p}, text)


def quotation(c, rng, rows):
    iid = "startend:quotation"
    for text in ['"Hello"', '"', '""', ' "Hello" ', "\u201cHello\u201d", "'Hello'", '"Hello', 'Hello"', '"Hi"\nThere', '\n"Multi\nline"\n', ""]:
        c.add("quotation/edge", iid, {}, text)


def capital_word_frequency(c, rng, rows):
    iid = "change_case:capital_word_frequency"
    texts = UPPER_ENGLISH + [
        "I AM HERE.", "NASA and the FBI met the CIA.", "DON'T STOP", "CANNOT GONNA WANNA GIMME LEMME GOTTA", "'TIS TRUE", "U.S.A.",
        "A-B-C TEST", "HELLO-WORLD", "\u00c9COLE \u0130STANBUL \u03a3\u039f\u03a6\u039f\u03a3", "OK OK OK ok", "123 ABC 456", "WHAT?! NO!!",
        "\"QUOTE\" 'SINGLE' \u201cCURLY\u201d", "(PAREN) [BRACKET] {BRACE}", "MR. SMITH WENT TO D.C.", "IT'S JOHN'S BOOK",
        "x\u0130y", "\u01c5ungla", "A. B. C.", "WE'LL WE'D WE'VE THEY'RE", "I'M", "E-MAIL ME AT TEST@EXAMPLE.COM", "",
    ]
    for text in texts:
        for n in (1, 2, 3, 5):
            for relation in ("less than", "at least"):
                c.add("capital_words/edge", iid, {"capital_frequency": n, "capital_relation": relation}, text)
    for _ in range(60):
        words = prompt_text(rng, rows).split()
        words = [w.upper() if rng.random() < 0.25 else w for w in words]
        text = " ".join(words)
        c.add("capital_words/prompts", iid, {"capital_frequency": rng.randint(1, 20), "capital_relation": rng.choice(["less than", "at least"])}, text)


def english_capital(c, rng, rows):
    iid = "change_case:english_capital"
    texts = UPPER_ENGLISH + [s.upper() for s in ENGLISH[:15]] + [
        LANGUAGE_TEXT["de"].upper(), LANGUAGE_TEXT["fr"].upper(), LANGUAGE_TEXT["es"].upper(), LANGUAGE_TEXT["ru"].upper(),
        "THIS IS MOSTLY UPPER but not all", "123", "HELLO", "\u00c9COLE ET MAISON", "I", "HTTPS://EXAMPLE.COM", "",
        "THE BEST \u03a3\u039f\u03a6\u039f\u03a3 ANSWER", "\u01c5 TITLE CASE CHAR",
    ]
    for text in texts:
        c.add("english_capital/edge", iid, {}, text)
        c.add("english_capital/loose", iid, {}, "Sure, here it is:\n" + text + "\n*Done*")


def english_lowercase(c, rng, rows):
    iid = "change_case:english_lowercase"
    texts = LOWER_ENGLISH + [s.lower() for s in ENGLISH[:15]] + [
        LANGUAGE_TEXT["de"].lower(), LANGUAGE_TEXT["it"].lower(), LANGUAGE_TEXT["pl"].lower(), "this has One capital",
        "123", "hello", "\u00e9cole et maison", "https://example.com", "", "the \u03c3\u03bf\u03c6\u03bf\u03c2 answer",
        "\u0131 dotless i text", "\u1d2c modifier capital a",
    ]
    for text in texts:
        c.add("english_lowercase/edge", iid, {}, text)
        c.add("english_lowercase/loose", iid, {}, "Here you go:\n" + text + "\nBest,")


def no_comma(c, rng, rows):
    iid = "punctuation:no_comma"
    for text in ["No commas here.", "One, comma.", "Fullwidth\uff0ccomma", "Arabic\u060c comma", "1,000", ",", "", "Sure,\nno commas here"]:
        c.add("no_comma/edge", iid, {}, text)


def empty_and_blank(c, rng, rows):
    """Blank responses never follow an instruction (strict or loose), whatever the checker says."""
    for row in rng.sample(rows, 15):
        for text in ["", "   ", "\n\n", "\u3000", "*"]:
            if all(_deterministic(i, k) for i, k in zip(row["instruction_id_list"], row["kwargs"])):
                c.add_row("empty/dataset", row, text)


def _deterministic(iid, kwargs):
    if any(not v for v in kwargs.values() if v is not None):
        return False
    if iid == "keywords:letter_frequency":
        letter = kwargs.get("letter") or ""
        return len(letter) == 1 and 97 <= ord(letter.lower()) <= 122
    return True


# ---- the real prompts -------------------------------------------------------------------------


def satisfy(rng, row):
    """A synthetic response that tries to follow each instruction of a real row (often failing)."""
    parts = []
    ids = row["instruction_id_list"]
    kwargs = row["kwargs"]
    head = []
    tail = []
    for iid, kw in zip(ids, kwargs):
        if iid == "combination:repeat_prompt":
            head.insert(0, kw["prompt_to_repeat"])
        elif iid == "detectable_format:title":
            head.append("<<" + rng.choice(["A Title", "My Poem", " "]) + ">>")
        elif iid == "keywords:existence":
            parts.append(" ".join(kw["keywords"]) + ".")
        elif iid == "keywords:frequency":
            parts.append((" " + kw["keyword"]) * max(0, kw["frequency"] + rng.choice([-1, 0, 1])))
        elif iid == "detectable_format:number_highlighted_sections":
            parts.append(" ".join("*highlight %d*" % i for i in range(kw["num_highlights"] + rng.choice([-1, 0, 0]))))
        elif iid == "detectable_format:number_bullet_lists":
            parts.append("\n".join("* point %d" % i for i in range(kw["num_bullets"] + rng.choice([-1, 0, 0, 1]))))
        elif iid == "detectable_content:number_placeholders":
            parts.append(" ".join("[p%d]" % i for i in range(kw["num_placeholders"] + rng.choice([-1, 0, 0]))))
        elif iid == "detectable_format:multiple_sections":
            parts.append("\n".join("%s %d\n%s" % (kw["section_spliter"], i + 1, rng.choice(ENGLISH)) for i in range(kw["num_sections"])))
        elif iid == "detectable_content:postscript":
            tail.append(kw["postscript_marker"] + " " + rng.choice(ENGLISH))
        elif iid == "startend:end_checker":
            tail.append(kw["end_phrase"])
        elif iid == "language:response_language":
            parts.append(LANGUAGE_TEXT.get(kw["language"], LANGUAGE_TEXT["en"]))
        elif iid == "length_constraints:number_sentences":
            parts.append(" ".join(sentences(rng, max(1, kw["num_sentences"] + rng.choice([-2, -1, 0, 1])))))
        elif iid == "length_constraints:number_words":
            parts.append(" ".join(rng.choice(["word", "text", "more"]) for _ in range(max(1, kw["num_words"] + rng.choice([-5, 0, 5])))))
        elif iid == "detectable_format:constrained_response":
            parts.append(rng.choice(["My answer is yes.", "My answer is no.", "I think so."]))
        elif iid == "combination:two_responses":
            parts.append(rng.choice(ENGLISH) + "\n******\n" + rng.choice(ENGLISH))
        else:
            parts.append(rng.choice(ENGLISH))
    body = "\n\n".join(p for p in head + parts + tail if p)
    if "length_constraints:number_paragraphs" in ids:
        body = body.replace("\n\n", "\n***\n")
    if "change_case:english_capital" in ids:
        body = body.upper()
    if "change_case:english_lowercase" in ids:
        body = body.lower()
    if "punctuation:no_comma" in ids and rng.random() < 0.7:
        body = body.replace(",", "")
    if "detectable_format:json_format" in ids:
        body = "```json\n" + json.dumps({"answer": body}) + "\n```"
    if "startend:quotation" in ids:
        body = '"' + body + '"'
    return body


def dataset_rows(c, rng, rows, deterministic):
    for row in rows:
        if not all(deterministic(i, k) for i, k in zip(row["instruction_id_list"], row["kwargs"])):
            continue
        c.add_row("dataset/satisfy", row, satisfy(rng, row))
        c.add_row("dataset/satisfy-noisy", row, with_loose_noise(rng, satisfy(rng, row)))



# ---- fuzz: random token soup against every tokenizing checker ---------------------------------

FUZZ_TOKENS = [
    "Mr.", "Mrs.", "Dr.", "U.S.", "e.g.", "i.e.", "a.m.", "p.m.", "No.", "J.", "K.", "etc.", "Inc.", "St.", "vs.", "Fig.",
    "...", "..", ". . .", "?!", "!", "?", ".", ",", ";", ":", "-", "--", "---", "\u2014", "\u2013", "\u2026",
    '"', "'", "``", "''", "(", ")", "[", "]", "{", "}", "<", ">", "<<", ">>", "*", "**", "***", "******", "#", "@", "&", "$", "%",
    "\u201c", "\u201d", "\u2018", "\u2019", "\u00ab", "\u00bb", "\u201e",
    "CAN'T", "can't", "cannot", "CANNOT", "'tis", "'Twas", "gonna", "Wanna", "gimme", "lemme", "gotta", "d'ye", "more'n",
    "don't", "I'm", "they're", "we'll", "he'd", "it's", "JOHN'S", "o'clock", "rock'n'roll",
    "caf\u00e9", "\u00c9COLE", "\u0130STANBUL", "\u0131", "stra\u00dfe", "\u03a3\u039f\u03a6\u039f\u03a3", "\u212a", "\u017f",
    "3.14", "1,000", "2nd", "10%", "$5", "1990s", "v2.0", "4.", "-5", ".5", "12:30",
    "P.S.", "P.P.S", "Section", "SECTION", "1", "2", "\u0661", "json", "{\"a\": 1}", "```", "```json",
    "NASA", "OK", "I", "A", "USA", "AI", "TV", "HELLO", "World", "the", "and", "of", "to", "is", "it", "that", "this",
    "www.example.com", "http://example.com/x", "user@example.org", "_under_", "snake_case", "CamelCase", "\u00bd", "\u2162",
]
FUZZ_SPACES = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\t", " \n", "\u00a0", "\u3000", ""]
FUZZ_WORDS = ["apple", "river", "story", "green", "people", "Light", "WATER", "Stone", "time", "hour", "brand", "law"]


def fuzz_text(rng, n):
    out = []
    for _ in range(n):
        tok = rng.choice(FUZZ_TOKENS) if rng.random() < 0.6 else rng.choice(FUZZ_WORDS)
        if rng.random() < 0.1:
            tok = tok.upper()
        out.append(tok)
        out.append(rng.choice(FUZZ_SPACES))
    return "".join(out)


FUZZ_CHECKERS = [
    ("length_constraints:number_sentences", lambda rng: {"num_sentences": rng.randint(1, 12), "relation": rng.choice(["less than", "at least"])}),
    ("change_case:capital_word_frequency", lambda rng: {"capital_frequency": rng.randint(1, 12), "capital_relation": rng.choice(["less than", "at least"])}),
    ("length_constraints:number_words", lambda rng: {"num_words": rng.randint(5, 40), "relation": rng.choice(["less than", "at least"])}),
    ("keywords:forbidden_words", lambda rng: {"forbidden_words": rng.sample(["the", "it", "is", "story", "rock", "roll", "i", "s", "t"], 2)}),
    ("keywords:frequency", lambda rng: {"keyword": rng.choice(["the", "it", "s", "i", "k", "."]), "frequency": rng.randint(1, 6), "relation": rng.choice(["less than", "at least"])}),
    ("detectable_format:number_bullet_lists", lambda rng: {"num_bullets": rng.randint(1, 4)}),
    ("detectable_format:number_highlighted_sections", lambda rng: {"num_highlights": rng.randint(1, 4)}),
    ("detectable_format:multiple_sections", lambda rng: {"section_spliter": rng.choice(["Section", "SECTION"]), "num_sections": rng.randint(1, 3)}),
    ("detectable_format:title", lambda rng: {}),
    ("detectable_content:postscript", lambda rng: {"postscript_marker": rng.choice(["P.S.", "P.P.S"])}),
    ("length_constraints:number_paragraphs", lambda rng: {"num_paragraphs": rng.randint(1, 4)}),
    ("length_constraints:nth_paragraph_first_word", lambda rng: {"num_paragraphs": 2, "nth_paragraph": rng.randint(1, 2), "first_word": rng.choice(["the", "i", "apple"])}),
    ("combination:two_responses", lambda rng: {}),
    ("keywords:letter_frequency", lambda rng: {"letter": rng.choice("aeiost"), "let_frequency": rng.randint(1, 10), "let_relation": rng.choice(["less than", "at least"])}),
    ("change_case:english_capital", lambda rng: {}),
    ("change_case:english_lowercase", lambda rng: {}),
    ("detectable_format:json_format", lambda rng: {}),
]


def fuzz(c, rng, rows):
    for i in range(900):
        iid, make = FUZZ_CHECKERS[i % len(FUZZ_CHECKERS)]
        text = fuzz_text(rng, rng.randint(3, 40))
        if iid == "change_case:english_capital":
            text = text.upper()
        elif iid == "change_case:english_lowercase":
            text = text.lower()
        c.add("fuzz/" + iid.split(":")[1], iid, make(rng), text)


# ---- near-ambiguous language identification ----------------------------------------------------

AMBIGUOUS = [
    "Buenos d\u00edas", "Bom dia", "Buongiorno a tutti", "casa blanca", "la casa", "o carro", "Ja", "Nein danke", "Tak",
    "\u0414\u0430", "\u041d\u0435\u0442", "\u0434\u043e\u0431\u0440\u0435", "\u0434\u043e\u0431\u0440\u044b\u0439 \u0434\u0435\u043d\u044c",
    "\u0928\u092e\u0938\u094d\u0924\u0947", "\u0927\u0928\u094d\u092f\u0935\u093e\u0926", "\u0634\u06a9\u0631\u06cc\u0647", "\u0645\u0631\u062d\u0628\u0627",
    "hello amigo", "ciao bella", "merci beaucoup", "danke sch\u00f6n", "kiitos paljon", "asante sana", "xin ch\u00e0o",
    "Pizza Pasta Espresso", "Internet Computer Software", "Hotel Taxi Restaurant", "OK", "Sushi", "Tsunami Karaoke",
]


def ambiguous_language(c, rng, rows):
    iid = "language:response_language"
    for text in AMBIGUOUS:
        for code in ("en", "es", "pt", "it", "ru", "bg", "hi", "fa", "fi", "sw", "vi"):
            if rng.random() < 0.35:
                c.add("language/ambiguous", iid, {"language": code}, text)
    for _ in range(120):
        a = rng.choice(sorted(LANGUAGE_TEXT))
        words = LANGUAGE_TEXT[a].split()
        k = rng.randint(1, min(4, len(words)))
        start = rng.randrange(len(words) - k + 1)
        snippet = " ".join(words[start:start + k])
        code = a if a in ("en", "es", "pt", "it", "ru", "bg", "hi", "fa", "fi", "sw", "vi", "de", "fr", "uk", "pl", "ne", "mr", "ur", "ar") else "en"
        c.add("language/snippet", iid, {"language": code}, snippet)


# ---- mechanics under the checkers: text limits, URL/e-mail removal, Punkt corners ---------------


def mechanics(c, rng, rows):
    lang = "language:response_language"
    # langdetect reads only the first 10000 characters (after URL/e-mail removal).
    de, en = LANGUAGE_TEXT["de"], LANGUAGE_TEXT["en"]
    long_en = " ".join([en] * (10000 // (len(en) + 1) + 1))
    for code in ("en", "de"):
        c.add("language/over-10000-chars", lang, {"language": code}, long_en[:9990] + " " + " ".join([de] * 30))
        c.add("language/over-10000-chars", lang, {"language": code}, "https://example.com/" + "a" * 3000 + " " + long_en[:9000] + " " + " ".join([de] * 40))
    mails = ["user@example.org Hola amigos", "a@b Hola amigos", "a@bc Hola amigos", "x" * 70 + "@example.org Hola amigos",
             "http:// Hola amigos", "https://x.y/z?q=1#f Hola amigos", "HTTP://EXAMPLE.COM Hola amigos", "mail me: first.last@sub.example.co.uk por favor",
             "@@@ Hola amigos", "a@-b Hola", "a@b.c.d.e Hola amigos"]
    for text in mails:
        for code in ("es", "en", "pt"):
            c.add("language/url-mail", lang, {"language": code}, text)
    # Vietnamese combining marks are composed before n-grams are taken.
    vi_decomposed = "Ho\u0302m nay tho\u031bi tie\u0302\u0301t ra\u0302\u0301t \u0111e\u0323p va\u0300 chu\u0301ng to\u0302i se\u0303 \u0111i"
    for code in ("vi", "en"):
        c.add("language/vi-combining", lang, {"language": code}, vi_decomposed)
    sent = "length_constraints:number_sentences"
    corners = [
        "He left (for good.) She stayed.", "He said \"Go.\" Then left.", "\u201cGo.\u201d Then left.", "It ended.) Then more.",
        "A.) B.", "Wow!!! Great.", "Hmm?? OK.", "Yes--no. Maybe.", "End.--Start.", "x. y. z.", "x.\ty.\tz.", "X. Y. Z.",
        "Go to p. 5. Then stop.", "See Fig. 2. It shows.", "In 2020. Then 2021.", "He is 5 ft. tall. Really.",
        "The end.\u00a0Next one.", "The end.\u3000Next one.", "The end.\u2028Next one.", "Item.\n\nItem two.", "Ends with dot.   ",
        "\"Quoted.\" 'Single.' (Paren.) [Bracket.] {Brace.}", "She won. \u00abYes.\u00bb He lost.", "A... B... C.", "A. . . B.",
        "I.e. this. E.g. that.", "U.S.A. Is big.", "The U.S. Army. The U.N.", "Jan. 5. Feb. 6.", "No. 5. No. 6.",
        "1. Point. 2. Point.", "(a) First. (b) Second.", "Stop.Go.", "Mr.Smith left.", "WAIT. STOP. GO.", "wait. stop. go.",
    ]
    for text in corners:
        for n in (1, 2, 3, 4):
            c.add("number_sentences/corners", sent, {"num_sentences": n, "relation": "at least"}, text)
    cap = "change_case:capital_word_frequency"
    for text in ["GIMME THAT", "LEMME GO", "GOTTA RUN", "MORE'N ENOUGH", "D'YE KNOW", "WANNA GO", "WANNA", "'TIS TRUE 'TWAS",
                 "CAN'T WON'T SHAN'T", "I'LL WE'D THEY'VE", "\"HELLO\" SAID HE", "HE SAID: \u201cNO.\u201d", "(A) [B] {C} <D>",
                 "A--B--C", "X...Y...Z", "NO. 5 AND NO. 6.", "U.S. AND U.K.", "'QUOTED' WORDS", "\u00abFRENCH\u00bb QUOTES",
                 "I'M O'NEIL", "TEST* BOLD** ***", "A-1 B-2 C-3", "WE'RE 100% SURE!", "ALL CAPS. NEXT SENTENCE. AND MORE."]:
        for n in (2, 3, 4):
            c.add("capital_words/corners", cap, {"capital_frequency": n, "capital_relation": "at least"}, text)
