"""The visit line: eye code (920xx) or E/M (992xx) by exam and MDM, new vs established, routine vs medical."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum

from agents.coding.diagnoses import MEDICAL_REFRACTIVE, FoundDiagnosis
from agents.coding.lexicon import load_lexicon
from agents.coding.schemas import CodingRequest
from agents.coding.sections import Clause, ParsedNote, SectionKind, line_bounds
from agents.coding.timing import AFTER_EARLIER_EXAM
from knowledge.rules.policies import resolve_policy

_I = re.IGNORECASE
ELEMENTS: dict[str, re.Pattern[str]] = {
    "acuity": re.compile(r"\bB?VA\b|acuit(?:y|ies)|\b20/\d{2,3}\b", _I),
    "pupils": re.compile(r"\bpupils?\b|\bPERRLA?\b|\bAPD\b", _I),
    "fields": re.compile(
        r"confrontation|\bC?VF\s+full|\bCVF\b|\bCF\b|\bFTFC\b|\bfields\b|\bfields?\s+full", _I
    ),
    "motility": re.compile(
        r"\bEOMs?\b|motility|extraocular|cover\s+test|sensorimotor|\bortho\b|\beye\s+movements?\b"
        r"|\bfields\s+and\s+movements\b|\bmovements\s+(?:are\s+|were\s+)?full\b|\bfull\s+(?:eye\s+)?movements\b"
        r"|\bductions\b|\bversions\b|\balternate\s+cover\b",
        _I,
    ),
    "pressure": re.compile(r"\bIOP\b|pressures?|tonometry|\bGAT\b|applanation|\biCare\b", _I),
    "slit_lamp": re.compile(
        r"\bSLE\b|slit\s+lamp|anterior\s+seg(?:ment)?s?|\bant\s+seg\b|\bAC\b|\bcorneas?\b", _I
    ),
    # a periphery examined and found flat or attached is a dilated fundus exam ("Periphery   flat   flat")
    "dilated": re.compile(
        r"\bDFE\b|(?<!un)dilat(?:ed|ion)\b|mydria|\bperiph(?:ery)?\b[ \t:|-]*(?:flat|attached|intact)\b", _I
    ),
}
_UNDILATED = re.compile(
    # a template's "Dilated: [x] No" (not "after dilation no retinopathy")
    r"\bundil(?:ated)?\b|not\s+dilated|without\s+dilation|non-?dilated"
    # ("Dilated: no hemorrhages" is a dilated finding, not a "no")
    r"|\bdilat\w*[ \t]*(?:[:?]|\[[xX]\])[ \t]*(?:\[[xX]\][ \t]*)?no\b(?![ \t]+(?:hem\w*|exud\w*|neovasc\w*|retinopathy|DR\b|drusen|tears?|breaks?|holes?|edema|CWS|signs?|abnormal\w*"
    r"|lesions?|changes?|pathology|RD\b|detach\w*))|(?m:\bdilat\w*[ \t]{2,}no[ \t]*$)"
    r"|\bno\s+dilation\b",
    _I,
)
_ONE_EYE_DILATION = re.compile(
    r"\bDFE[ \t]+(?:OD|OS)\b(?!\s*(?:\+|and|&|/)\s*O[DS])|\bdilated\s+(?:the\s+)?(?:right|left|OD|OS)(?:\s+eye)?\s+only\b",
    _I,
)
_COMPREHENSIVE_WORDS = re.compile(
    r"\bannual\b|\byearly\b|\broutine\b(?!\s+(?:(?!exam)[\w-]+\s+){0,4}(?:follow|f/u|check|recheck))|comprehensive|complete\s+exam"
    r"|full\s+exam|\bscreening\b|\bdilated\s+diabetic\s+(?:eye\s+)?check\b"
    # a baseline exam, not baseline tests ("baseline photos taken then")
    r"|\bbaseline\b(?!\s+(?:disc\s+|fundus\s+|stereo\s+)?(?:photo\w*|OCT|fields?|VF|images?|imaging|scans?|test\w*|pachy\w*|IOP|measurements?|values?))"
    r"|diabetic\s+(?:eye\s+)?exam|\bDM\s+eye\s+exam|fail(?:ed|ing)\s+(?:the\s+)?(?:school\s+)?(?:vision\s+)?screen"
    r"|first\s+eye\s+exam",
    _I,
)
# ("floaters followed by a single large floater" is a sequence of symptoms; "followed by Dr. Lin" is care)
_FOLLOW_UP = re.compile(
    r"\bf/u\b|follow[- ]?up|\bfollowed\b(?!\s+(?:\w+\s+)?for\s+(?:routine|annual|general))(?![^.;\n]{0,30}?\bby\s+(?!Dr\b|our\b|the\s+(?:retina|glaucoma|cornea))(?:[\w-]+\s+){0,3}?(?:floaters?|flash\w*|spots?|specks?|shadow|curtain|pain|headache"
    r"|blur\w*|cobweb|appearance|halos?|throb\w*|photophobia|redness|discharge|nausea|dots|cloud|bugs|strings|lights|sparks)\b)|re-?check|\bck\b|\bchk\b|\bcheck\b"
    r"|\breturn(?:s|ed)?\b(?!\s+(?:to\s+(?:the|our|this)\s+(?:practice|clinic|office)\s+)?(?:for\s+the\s+first\s+time|after\s+(?:\w+\s+)?years))|monitoring|\binterval\b|\b(?:is|comes?|came)\s+back\s+(?:from|to\s+see|today)\b"
    r"|\b(?:is|comes?|came|back)\s+(?:back|in)\s+(?:for|after|\w+\s+(?:weeks?|months?|days?))"
    # "Four-month glaucoma visit": a scheduled interval visit
    r"|\b(?:month|week|year)\s+(?:review|visit)\b|\b\w+[- ](?:months?|mo|weeks?|wks?)\s+(?:\w+\s+){0,2}(?:visit|review)\b|\bback\s+(?:\w+\s+){0,2}(?:weeks?|months?|days?)\s+after"
    r"|problem[- ](?:oriented|focused)|surgery\s+planning|pre-?op(?:erative)?\s+(?:visit|consult|evaluation)",
    _I,
)
# On a minor-procedure day, a separate problem the patient brings up now is a new problem (intermediate exam).
_SEPARATE_NEW = re.compile(
    r"\bnew\s+(?:complaint|c/o|floaters|problem|onset|symptoms?)|(?<!\bno\s)(?<!\bany\s)\b(?:also|separately|separate)\s+(?:c/o|complain\w*|concerns?)|\bseparate\s+(?:issue|problem)\s*:"
    r"|\balso\s+wants?\b[^.;\n]{0,40}\b(?:looked\s+at|evaluated|checked)\b"
    r"|\bmentioned\b",
    _I,
)
# A decision for surgery (AMA: elective major surgery) is moderate risk, unless only contingent ("if ...").
_SURGERY_DECISION = re.compile(
    r"\b(?:refer(?:ral|red)?|schedul\w*|proceed(?:ing)?)\s+(?:\w+\.?\s+){0,5}(?:for\s+|with\s+)?(?:\w+\s+)?"
    r"(?:CXL|cross-?linking|surgery|phaco\w*|trab\w*|vitrectomy)\b(?![^.;\n]{0,20}\bif\b)"
    r"|\bplan\s+(?:for\s+)?(?:CE/IOL|CE\b|phaco\w*|cataract\s+(?:surgery|extraction))"
    r"|\belects?\s+(?:\w+\s+){0,3}(?:surgery|CE/IOL|phaco\w*|cataract\s+extraction)\b"
    # "she would like to proceed. Referral to the cataract surgeon for ... phacoemulsification"
    r"|\b(?:would\s+like|wants|elects?|agreed?|decided)\s+to\s+(?:proceed|go\s+ahead)\b"
    r"(?![^\n]{0,120}\b(?:revisit|reconsider|defer\w*|hold\s+off|not\s+ready|next\s+year|later\s+date)\b)"
    r"(?=[^\n]{0,120}\b(?:surgery|phaco\w*|CE/IOL"
    r"|trab\w*|CXL|cross-?linking)\b)",
    _I,
)
# AMA risk: a decision about minor surgery (a chalazion's incision and curettage, epilation) is low risk
_IF_BEFORE = re.compile(r"\bif\b[^.;\n]{0,60}$", _I)
_MINOR_SURGERY_DECISION = re.compile(
    r"\b(?:elects?|opts?|chooses?|decided|wants|refer(?:ral|red)?|schedul\w*|discussed|versus|vs\.?)\b[^.;\n]{0,40}"
    r"\b(?:incision\s+and\s+(?:curettage|drainage)|I\s?&\s?[CD]\b|excision|epilation)"
    # "referral to our surgeon for cataract evaluation": the surgeon decides on surgery, not this visit
    r"|\brefer(?:ral|red)?\s+(?:[\w.]+\s+){0,5}for\s+(?:a\s+)?(?:cataract|surgical|surgery|CE/IOL|YAG)\s+"
    r"(?:evaluation|eval|consult\w*|assessment)\b",
    _I,
)
_NEW_PROBLEM = re.compile(
    r"\bc/o\b|complain|\bnew\s+(?!patient|pt\b|glasses|specs|spectacle|Rx\b|progressive|readers|lenses|contacts|to\b|to\s+(?:our|the|this))"
    # "new sup paracentral defect", "new disc heme": progression of the known disease, not a new problem
    r"(?!(?:[\w-]+\s+){0,2}(?:defects?|hem(?:e|orrhage)s?|thinning|notch\w*|scotoma|step|arcuate))|sudden|\bcalled\b"
    r"|noticed|developed|since\s+(?:yesterday|this|last)|painful|\bred\b|\bblur",
    _I,
)
_NO_EXAM = re.compile(
    r"no\s+(?:other\s+|eye\s+)?exam(?:ination)?\s+(?:was\s+(?:performed|done|repeated)|repeated\s+today)"
    r"|(?:^|[.\n]\s*)(?:eye\s+)?exam(?:ination)?\s+(?:was\s+)?not\s+repeated\s+today\b"
    r"|\bno\s+(?:provider\s+|eye\s+|doctor\s+|physician\s+)?exam(?:ination)?\s+(?:(?:was\s+)?(?:performed|done)\s+)?today\b"
    r"|\bno\s+exam\s*(?:,|and)\s*no\s+(?:IOP|refraction)\b|\btesting[- ]only\s+visit\b|\btesting\s+visit\s+only\b"
    r"|\b(?:doctor|provider|physician|Dr\.?\s+\w+)\s+did\s+not\s+(?:examine|see)\s+(?:the\s+patient|him|her|them)\b"
    # ("refraction only improves it to 20/30" is what the refraction did, not the visit's scope)
    r"|\b(?:refraction|biometry|IOL\s+calculation)(?:/IOL\s+calculation)?\s+(?:visit\s+)?only\b"
    r"(?!\s+(?:improv|help|gets?\b|got\b|gives?\b|gave\b|brings?\b|brought\b|makes?\b|made\b))"
    r"|(?m:^\s*tech(?:nician)?\s+visit\b)|\btech(?:nician)?\s+visit\s*[-,:]|\b(?:encounter|visit)\s+type\s*:\s*tech"
    r"|only\s+(?:to\s+have|for)\s+(?:his|her|their|a)?\s*(?:glasses|spectacle|refraction|Rx)",
    _I,
)
_NOT_A_BENEFIT = re.compile(
    r"\b(?:glasses|routine|vision|refractive)\s+exam(?:ination)?\s+(?:is\s+)?not\s+(?:a\s+)?(?:covered|(?:Medicare\s+)?benefit)",
    _I,
)
# "He was told and accepted that the routine exam and the refraction are his responsibility": a routine visit
_ROUTINE_SELF_PAY = re.compile(
    r"\broutine\s+(?:eye\s+|vision\s+)?exam(?:ination)?\b[^.;\n]{0,50}\b(?:(?:his|her|their|the\s+patient['’]?s|patient)\s+"
    r"(?:own\s+)?responsibility|self[- ]pay)"
    # "Informed that Medicare does not cover a routine exam or refraction; elected to proceed self-pay"
    r"|\b(?:does\s+not|doesn['’]t|will\s+not)\s+cover\s+(?:a\s+|the\s+)?routine\s+(?:eye\s+|vision\s+)?exam\w*\b"
    r"[^.\n]{0,60}\b(?:elected|chose|agreed|decided|opted)\s+to\s+(?:proceed\s+|pay\s+)?(?:as\s+)?"
    r"(?:self[- ]pay|privately|out\s+of\s+pocket)",
    _I,
)
# (a policy stated, or another visit's: "will be self-pay", "none done today")
_SELF_PAY_NOT_TODAY = re.compile(
    r"\b(?:will|schedul\w*|next|none\s+(?:done|performed)|not\s+(?:done|performed|today))\b", _I
)
_REFRACTION_OPENING = re.compile(r"^[^.\n]{0,30}?\b(?:MRx|refraction|Rx\s+check)\b", _I)
_NO_FULL_EXAM = re.compile(
    r"\bno\s+(?:full|complete|comprehensive)\s+exam(?:ination)?\b(?!\s+(?:findings|abnormalit))", _I
)
_PROGRESSION = re.compile(
    r"progress|worse|worsening|unstable|above\s+(?:target|goal|tgt)|not\s+at\s+(?:target|goal|tgt)|uncontrolled|increas"
    r"|\brising\b|\bhigher\b|not\s+(?:well\s+)?controlled|poorly\s+controlled|can'?t\s+tolerate|cannot\s+tolerate"
    r"|not\s+tolerat\w*|not\s+improv\w*|no\s+better\b"
    r"|exacerbat|intoleran|new\s+defect|\bnow\s+visually\s+significant"
    # "fluid recurrence at extended interval", "reactivated CNV" (not a disease's name: "recurrent corneal erosion")
    r"|\brecurrence\b|\brecurred\b|\breactivat\w*",
    _I,
)
# AMA: a side effect raises the problem only when the treatment needs attention (switched, stopped, added to).
# "SE" as side effect, never the spherical equivalent of a refraction ("SE -2.50 OU")
_SIDE_EFFECT = re.compile(
    r"side[- ]?effects?|adverse\s+(?:effect|reaction)|(?-i:\bSEs?\b)(?!\s*[-+]?\s*\d)", _I
)
_DRUG_REACTION_AFTER = re.compile(r"[ \t]*(?:allerg(?:y|ic\s+reaction)|reaction|intolerance|toxicity)\b", _I)
_DRUG_REACTION_BEFORE = re.compile(r"\b(?:allerg(?:y|ic(?:\s+reaction)?)|reaction|intoleran\w+)\s+to\s+$", _I)
# "reports dry mouth and fatigue since brimonidine started": a complaint dated from a drug's start
_SINCE_DRUG_BEFORE = re.compile(r"\bsince\s+(?:starting\s+|the\s+)?$", _I)
_SINCE_DRUG_AFTER = re.compile(r"[ \t]+(?:was\s+)?(?:started|began|added)\b", _I)
_COMPLAINT_WORDS = re.compile(r"\b(?:reports?|c/o|complain\w*|notes|noticed|has\s+had|experienc\w*)\b", _I)
_DENIED_BEFORE = re.compile(r"\b(?:no|not|without|denies|denied)\b[^.;,]*$", _I)
_TREATMENT_CHANGE = re.compile(
    r"\b(?:switch\w*|stop\w*|d/c\b|discontinu\w*|chang(?:e|ed|ing)\s+(?:to|from)|replac\w*|substitut\w*"
    r"|hold\w*|add\w*|start\w*|reduc\w*|lower\w*\s+(?:the\s+)?dose)",
    _I,
)
# High MDM (AMA table): a threat to bodily function (vision) and a decision about urgent or emergency surgery.
_HIGH_STAKES = re.compile(
    r"threat\w*\s+to\s+(?:\w+\s+){0,2}(?:vision|sight)|(?:sight|vision)[- ]threatening"
    # "central vision at risk" (not "the long-term risk to vision if drops are missed"), "sees pt tomorrow for trab"
    r"|\b(?:vision|sight)\s+(?:is\s+)?at\s+risk\b(?![^.;\n]{0,30}\bif\b)"
    r"|\brisk\s+to\s+(?:\w+\s+)?(?:vision|sight)\b(?![^.;\n]{0,30}\bif\b)"
    r"|\btomorrow\s+for\s+(?:\w+\s+){0,2}(?:surgery|trab\w*|tube|vitrectomy|repair)\b"
    r"|\b(?:urgent|emergen\w*|same[- ]day|stat)\s+(?:\w+\s+){0,3}(?:surgery|trab\w*|trabeculectomy|tube|vitrectomy"
    r"|repair|iridotomy|LPI|referral)",
    _I,
)
_NOT_BEFORE = re.compile(r"\b(?:no|not|without|w/o|non)[- ]?\s*(?:\w+\s+)?$", _I)
# a child's sensorimotor work-up: named, or measured as stereoacuity (Randot, Titmus, Lang)
# below this age confrontation fields are rarely gradable and a full sensorimotor evaluation stands in for them; an
# adult's sensorimotor work-up of a new diplopia is the problem's own exam, not a comprehensive one
_FIELDS_GRADABLE_AGE = 8
_SENSORIMOTOR = re.compile(
    r"\bsensorimotor\s+(?:exam\w*|evaluation|testing)\b|\bstereo(?:psis|acuity)?\b|\b(?:Randot|Titmus|Lang)\b",
    _I,
)
_ROUTINE_ASSESSED = re.compile(
    r"\broutine\s+(?:eye\s+)?exam(?:ination)?\b|encounter\s+for\s+(?:routine\s+)?exam\w*\s+of\s+eyes", _I
)
_LATER_VISIT = re.compile(
    r"\b(?:will|schedul\w*|separately|another\s+(?:time|day|visit)|next\s+(?:visit|time)|book\w*)\b", _I
)
# "No progression", "monitor for progression" or "if worse" is a negation or contingency, not progression.
_CONTINGENT_CUE = re.compile(r"\b(?:no|not|without|w/o|for|if|of|watch|monitor\w*|signs?|prn)\s*$", _I)
_HISTORIAN = re.compile(
    r"history\s+(?:is\s+)?(?:obtained\s+)?from\s+(?:the\s+)?(?:mother|father|parent|caregiver|daughter|son|wife|husband)"
    r"|gives\s+the\s+history|independent\s+historian"
    # "comes with her son ... so the history is obtained from him"
    r"|\b(?:son|daughter|mother|father|parents?|caregiver|wife|husband|guardian|aide)\b[^\n]{0,200}?\bhistory\s+"
    r"(?:is\s+|was\s+)?(?:obtained|taken)\s+from\s+(?:him|her|them)\b"
    # "amblyopia f/u w/ mom (gives hx)"
    r"|\b(?:mom|mother|dad|father|parents?|caregiver|guardian)\b[ \t]*\([ \t]*gives\s+(?:the\s+)?(?:hx|history)\b|per\s+(?:mother|father|parents?|mom|dad)\b|did\s+most\s+of\s+the\s+talking"
    r"|(?:mother|father|parent|parents|caregiver|guardian|grandmother|grandfather|wife|husband|daughter|son)\s+"
    r"(?:provides|provided|gave|gives|give|reports?|supplied)\s+(?:the\s+|most\s+of\s+the\s+)?history"
    # "His mother reports that he wears them all day": a parent's account of the child's history
    r"|\b(?:his|her|their|the)\s+(?:mother|father|parents?|mom|dad|caregiver|guardian|grandmother|grandfather)\s+"
    r"(?:reports|says|states|notes|describes)\b"
    # "cannot give a reliable history, so her daughter, who manages her care, provided it"
    r"|\b(?:cannot|can't|unable\s+to)\s+give\s+(?:a\s+)?(?:reliable\s+)?history\b"
    # "She came with Marisol, her house manager, who gave most of the history"
    r"|\bwho\s+(?:gave|gives|provided|provides)\s+(?:most\s+of\s+|all\s+of\s+)?the\s+history\b",
    _I,
)
_A1C = r"(?:Hb|hemoglobin\s+)?A1c"
_EXTERNAL_DATA = re.compile(
    # one result, however it is worded: "the lab report from January 8 showing an A1c of 8.6", "PCP labs: A1c 7.2",
    # "HbA1c 7.4% (PCP lab report)", "the MRI report"
    rf"\b(?:lab\s+)?(?:report|results?|labs?)\b[^.;\n]{{0,40}}?(?:\b(?:showing|with|of)\b|:)\s*(?:an?\s+|her\s+|his\s+)?{_A1C}\b"
    rf"|\b{_A1C}\b(?:[^.;\n]|\.\d){{0,20}}?\(\s*(?:\w+\s+)?lab\s+(?:report|results?)\s*\)"
    rf"|\b(?:MRI|labs?|blood\s?work|{_A1C})\s+(?:report|results?)\b"
    rf"|\b(?:note|notes|records?|report|letter|results?|maps|scans|images|photos|{_A1C}|labs?|blood\s?work|MRI)\b",
    _I,
)
_REVIEWED = re.compile(r"\breviewed\b", _I)
# "Reviewed today: endocrinology note ... . HbA1c 7.4% (PCP lab report)": every sentence on the label's line
_REVIEWED_LABEL = re.compile(r"[ \t]*(?:[\w-]+[ \t]+){0,2}reviewed(?:[ \t]+today)?[ \t]*:", _I)
_DISCUSSED = re.compile(
    r"\b(?:called|phoned|telephoned)\s+(?:Dr\.?\s|the\s+(?:retina|glaucoma|cornea)|her\s+(?:retina|glaucoma|PCP))"
    r"|\bd/w\s+Dr\.?\s"  # "D/w Dr. Haddad (cornea) by phone today"
    r"|\b(?:discussed|spoke|talked|conferred|went\s+over)\b[^.;\n]{0,60}(?:\bwith|\bw/)\s*(?:Dr\.?\s|(?:the\s+|her\s+|his\s+)?"
    r"(?:(?:retina(?:l)?|cornea(?:l)?|glaucoma|oculoplastics?)\s+(?:surgeon|specialist)|ophthalmologist|PCP|primary\s+care|endocrinologist|rheumatologist"
    r"|neuro-?ophthalmolog\w+|surgeon))",
    _I,
)
_FAILED_SCREENING = re.compile(
    r"(?:fail(?:ed|ing)|did\s+not\s+pass)\s+(?:the\s+|a\s+|her\s+|his\s+)?(?:school\s+|distance\s+|near\s+)?(?:vision\s+)?"
    r"screen",
    _I,
)


_LIMITED_EXAM = re.compile(
    r"\blimited\s+(?:the\s+)?exam\w*|\bexam\w*\s+(?:today\s+)?(?:was\s+)?limited\s+to\b|(?<!for a )(?<!for )\bfocused\s+(?:\w+\s+)?(?:exam\w*|visit|follow[- ]?up)\b"
    # "This was a focused follow-up ..., not a full exam." (not "(not a full exam)" of a November visit)
    r"|\b(?:this|it|today['’]s\s+(?:visit|exam|check))\s+(?:was|is)\s+not\s+a\s+(?:full|complete|comprehensive)\s+(?:eye\s+)?exam\b"
    r"|,\s*not\s+a\s+(?:full|complete|comprehensive)\s+(?:eye\s+)?exam\b"
    r"|\bproblem[- ]focused\b|\bexam\w*\s+(?:\(\w+\)\s+)?focused\s+on\b|\bexam\w*\s*:\s*focused\b"
    # "booked as his annual, but ... asked us only to look at his macular degeneration"
    r"|\b(?:asked|wanted|wants)\s+(?:us\s+)?only\s+to\s+(?:look\s+at|check|examine)\s+(?:his|her|their|the)\s+(?!eyes?\b)\w+",
    _I,
)
# A visit whose stated reason is only a contact lens fitting ("Reason for visit: aphakic contact lens fitting")
_FIT_VISIT = re.compile(
    r"\b(?:contact\s+lens|CL)\s+(?:re)?fit(?:ting)?\b"
    r"|\b(?:re)?fit(?:ted)?\s+(?:with|for)\s+(?:a\s+|his\s+|her\s+|their\s+)?(?:new\s+)?(?:contact\s+lens|CL)",
    _I,
)
# (today's visit, said in the past tense or with "today": not "she will return for a contact lens fitting")
_FIT_REASON = re.compile(
    r"[^.\n]*\b(?:came\s+in|(?:comes\s+in|is\s+here|was\s+seen|presents?|returns?)\s+today)\s+for\s+"
    r"(?:(?:his|her|their|an?|the)\s+)?(?:[\w-]+\s+){0,5}?(?:contact\s+lens|CL)\s+(?:re)?fit(?:ting)?\b[^.\n]*",
    _I,
)
# "the fitting we planned at his comprehensive exam three weeks ago": an earlier exam too, beside the shared forms
_EARLIER_EXAM = re.compile(
    AFTER_EARLIER_EXAM.pattern
    + r"|\bat\s+(?:his|her|their|the)\s+(?:[\w-]+\s+){0,2}?exam\w*\s+(?:[\w-]+\s+){1,2}ago\b",
    _I,
)
# "returns two weeks after her first soft contact lens fitting": the fit was an earlier visit
_EARLIER_FIT = re.compile(
    r"\b(?:after|since)\s+(?:his|her|their)\s+(?:[\w-]+\s+){0,3}(?:contact\s+lens|CL)\s+(?:re)?fit"
    # "She was last seen here in August 2022 for a contact lens fit"
    r"|\b(?:last\s+seen|was\s+seen\s+(?:here\s+)?(?:in|on|back\s+in))\b[^.;]{0,40}\bfor\s+(?:a\s+|an\s+|her\s+|his\s+)?"
    r"(?:[\w-]+\s+){0,2}(?:contact\s+lens|CL)\s+(?:re)?fit",
    _I,
)
# a visit booked to follow up a lens fitting, not a medical problem
_LENS_FOLLOW_UP = re.compile(
    r"\b(?:CL|contact\s+lens(?:es)?)\s+(?:f/u|follow[- ]?up|re-?check|chk|ck)\b|" + _EARLIER_FIT.pattern, _I
)
_EXAM_WORDS = re.compile(
    r"\bexam\w*|\bannual\b|\broutine\b|\bcheck\b|\bevaluation\b|\bcomprehensive\b|\bc/o\b|complain|\bpain|\bred\b|\bblur",
    _I,
)


_NEW_PATIENT = re.compile(
    r"\bnew\s+(?:patient|pt)\b|\bNP\b|first\s+(?:visit|exam)|new\s+to\s+(?:our|the)", _I
)
_ESTABLISHED = re.compile(r"\bestablished\b", _I)


class Level(IntEnum):
    MINIMAL = 1  # straightforward
    LOW = 2
    MODERATE = 3
    HIGH = 4


@dataclass
class VisitChoice:
    code: str | None
    family: str  # comprehensive | intermediate | em | vision_plan | none
    routine: bool
    established: bool
    evidence: list[tuple[int, int]] = field(default_factory=list)
    rationale: str = ""
    mdm: dict[str, str] = field(default_factory=dict)
    complete: bool = False  # every element the code needs is documented (its own confidence bucket)
    in_global: bool = False  # an unrelated problem inside a surgeon's global period (modifier 24)
    overruled: str | None = None  # the rules' code, where the learned second opinion replaced it


def is_established(request: CodingRequest, note: ParsedNote) -> bool:
    """The 3-year rule: established when an optometry visit with the group falls in the 3 years before."""
    if request.established is not None:
        return request.established
    dos = request.date_of_service or date.today()
    try:
        window = dos.replace(year=dos.year - 3)
    except ValueError:  # 29 February
        window = dos.replace(year=dos.year - 3, day=28)
    same_specialty = [v for v in request.history if (v.specialty or "optometry").lower() == "optometry"]
    if request.history:
        return any(window <= visit.date < dos for visit in same_specialty)
    # no earlier visit with the group: new, unless the note itself says the patient is established
    return bool(_ESTABLISHED.search(note.text)) and not _NEW_PATIENT.search(note.text)


def vision_exam_codes(request: CodingRequest) -> tuple[str, str]:
    """(new, established) routine exam codes for the patient's vision plan."""
    lexicon = load_lexicon()
    if request.date_of_service is not None:
        policy = resolve_policy(request.payer_name, request.payer_kind, request.date_of_service)
        codes = set(policy.vision_exam_codes)
        if codes and codes <= {"S0620", "S0621"}:
            return "S0620", "S0621"
    if lexicon.s_code_plans.search(request.payer_name):
        return "S0620", "S0621"
    return "92004", "92014"


_ELEMENT_NOT_DONE = re.compile(
    r"\bnot\s+(?:tested|done|performed|assessed|checked|examined|measured)\b|\bdeferred\b|\bunable\s+to\b|\bn/t\b"
    r"|\b(?:pt|patient|he|she)\s+(?:declines|declined|refuses|refused)\s+(?:the\s+)?(?:DFE|dilat\w*|fields?|CF|EOM"
    r"|motility|pupils?)\b",
    _I,
)
_CROSSED_BEFORE = re.compile(r"[✗✘][ \t]*$")
# "No CF/EOM/pupil testing this visit.", "No refraction or dilation today.": the elements it lists, not the rest of
# the sentence
_NONE_OF = re.compile(
    r"\bno\s+[\w/,&\- ]{0,40}?\b(?:(?:testing|tested|eval(?:uation)?|exam(?:ination)?)\s+)?(?:this\s+visit|today)\b",
    _I,
)


_ELEMENT_DATED = re.compile(r"[ \t]*\d{1,2}/\d{1,2}(?:/\d{2,4})?\s*\)")


def _element_not_done(note: ParsedNote, position: int) -> bool:
    """ "Confrontation fields and motility were not tested": the element is named but was not examined."""
    sentence = note.sentence_at(position)
    if sentence is None:
        return False
    text = note.span(sentence)
    listed = any(m.start() <= position - sentence.start < m.end() for m in _NONE_OF.finditer(text))
    # "Exam: focused (✗ CF, ✗ EOM)": the element crossed off
    crossed = bool(_CROSSED_BEFORE.search(note.text, max(sentence.start, position - 3), position))
    return listed or crossed or bool(_ELEMENT_NOT_DONE.search(text))


_DASHES = re.compile(r"[ \t]*:?[ \t]*-{2,}(?=[ \t]*(?:[.;,\n]|$))")  # a row left as dashes ("CVF: --")


def _named_not_done(note: ParsedNote, name: str) -> bool:
    """The element is named, and every mention says it was not done ("CVF: --", "motility not tested")."""
    mentions = list(ELEMENTS[name].finditer(note.text))
    return bool(mentions) and all(
        _element_not_done(note, m.start()) or _DASHES.match(note.text, m.end()) for m in mentions
    )


def _row_emptied(note: ParsedNote, start: int, end: int) -> bool:
    """A template row whose only content was an unchecked box or copied-forward text ("Pupils  [ ] not examined",
    "Motility  [copied forward from 05/2025] full OU"): cleaning left its label alone, so nothing was examined."""
    line_start, line_end = line_bounds(note.text, start)
    alone = not note.text[line_start:start].strip() and not note.text[end:line_end].strip()
    return alone and bool(note.original[end:line_end].strip())


def exam_elements(note: ParsedNote) -> dict[str, tuple[int, int] | None]:
    found: dict[str, tuple[int, int] | None] = {}
    # the plan says what comes next ("RTC 4 mo with dilated exam"), not what was examined today
    plan = [(s.start, s.end) for s in note.sections if s.kind == SectionKind.PLAN]
    for name, pattern in ELEMENTS.items():
        match = next(
            (
                m
                for m in pattern.finditer(note.text)
                if not any(a <= m.start() < b for a, b in plan)
                # "C/D (DFE 5/26)": an earlier visit's element, dated
                and not _ELEMENT_DATED.match(note.text, m.end())
                and not _element_not_done(note, m.start())
                and not _DASHES.match(note.text, m.end())
                and not _row_emptied(note, m.start(), m.end())
            ),
            None,
        )
        found[name] = (match.start(), match.end()) if match else None
    # "not dilated today" unless today's exam says it was dilated ("RTC: annual dilated exam" plans the next one)
    today = note.text
    for a, b in plan:
        today = today[:a] + " " * (b - a) + today[b:]
    if found["dilated"] and (
        _UNDILATED.search(today) and not re.search(r"(?<!un)dilated\s+(?:fundus|exam)", today, _I)
    ):
        found["dilated"] = None
    return found


def _in_plan(note: ParsedNote, position: int) -> bool:
    sentence = note.sentence_at(position)
    return sentence is not None and sentence.section == SectionKind.PLAN


def _dilated_both(note: ParsedNote, elements: dict[str, tuple[int, int] | None]) -> bool:
    if not elements["dilated"]:
        return False
    # "DFE OD: ..." then "DFE OS: ...": each eye dilated on its own line
    per_eye = {m.group(1).upper() for m in re.finditer(r"\bDFE[ \t]+(OD|OS)\b", note.text, _I)}
    # (not "RTC 4-6 weeks DFE OD": the plan's next dilation)
    one_eye = any(
        not _NEXT_VISIT_BEFORE.search(note.text, line_bounds(note.text, m.start())[0], m.start())
        # "P: ... Recheck DFE OD 4-6 wks": the plan's next dilation
        and not _in_plan(note, m.start())
        for m in _ONE_EYE_DILATION.finditer(note.text)
    )
    return not (
        one_eye
        and not re.search(r"\bDFE\s+OU\b|dilated.{0,40}both", note.text, _I)
        and per_eye != {"OD", "OS"}
    )


# The reason for the visit can sit past a short first line ("44F est.", a clinic name, "Teague OD").
_REASON_CHARS = 320
_NEGATED_CUE = re.compile(
    r"\b(?:no|nothing|denies|denied|without|w/o|not|nor|neg(?:ative)?\s+for)\b[^.;:!?]{0,60}$", _I
)
# a refractive complaint (blur with old glasses, weak readers) is not a new medical problem
_GLASSES_CONTEXT = re.compile(
    r"\b(?:glasses|specs|spectacles|readers|Rx|bifocals?|progressives?|contacts)\b", _I
)
_NEW_ONSET = re.compile(
    r"\bnew\s+(?:complaint|c/o|problem|onset|symptoms?)\b|\bsudden\w*|\bwith\s+a\s+new\b", _I
)
# a complaint that makes the visit a problem visit even when it was booked as a routine or annual exam
_NEW_COMPLAINT = re.compile(
    r"\bc/o\b|\bcomplain\w*|\bnew\s+(?:floaters|flashes|spots?|pain|redness)\b|converted\s+to\s+(?:a\s+)?medical",
    _I,
)
# a symptom's onset, in the opening: "urgent same-day visit", "wavy lines x 5 days", "since Sunday"
_ACUTE = re.compile(
    r"\burgent\b|\bsame[- ]day\b|\bx\s*\d+\s*(?:d|days?|hrs?|hours?|wks?|weeks?)\b"
    r"|\bsince\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|this\s+morning|last\s+night)\b"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|\d+)\s+days?\s+ago\b",
    _I,
)
# a symptom that has developed: new, unless the visit opens as the follow-up of a known problem
_DEVELOPED = re.compile(
    r"\bhas\s+become\b|\bbecame\b|\bover\s+the\s+past\b"
    # "both eyes have been burning and gritty for about two months": a symptom going on (not "compliant for a month")
    r"|\b(?:has|have)\s+(?:been\s+)?(?:\w+\s+){0,3}?(?:burn\w*|gritty|itch\w*|blurr?\w*|red|pain\w*|sore|water\w*"
    r"|tear(?:ing|ed)|irritat\w*|swollen|sticky|crust\w*|ach(?:ing|ed)|hurt\w*|wavy|distorted|bent|dim|hazy|cloudy"
    r"|doubled?)\b(?![^.\n]*\b(?:known|unchanged|no\s+change|stable)\b)[^.;\n]{0,30}?\bfor\s+"
    r"(?:about\s+|the\s+(?:last|past)\s+)?"
    r"(?:a\s+few\s+|\w+\s+)?(?:days?|weeks?|months?)\b",
    _I,
)
# an explicit follow-up in the opening ("6 wk f/u SCH OS", "DRY EYE FOLLOW-UP"), stronger than "returns because ..."
_STRONG_FOLLOW_UP = re.compile(
    r"\bf/u\b|follow[- ]?up|re-?check|\b(?:is|are)\s+(?:here|seen)\s+for\s+(?:a\s+|her\s+|his\s+)?check"
    # "with keratoconus ... who is followed every six months", "Walk-in, known keratoconus": a known problem
    r"|\b(?:is|are)\s+followed\s+(?:every|each|q|here|by|for)\b|^[^.\n]{0,20}\bknown\s+(?!to\b)\w+"
    # "back for her dry eye", "returns six months after we diagnosed keratoconus"
    r"|\bback\s+for\s+(?:her|his|their)\s+(?!annual|yearly|routine|new\b)\w+|\bafter\s+(?:we|I)\s+diagnosed\b"
    # "six months after we first noticed a haze" (not a patient's "after I noticed", nor "here after we found ...
    # at a screening")
    r"|\b(?:days?|weeks?|months?|years?)\s+after\s+we\s+(?:first\s+)?(?:noticed|found|detected|noted)\b"
    # "3-mo POAG chk", and a story of the earlier visit: "Five weeks ago she came in with ... and we found a PVD",
    # "Three days ago I removed a foreign body" (its onset words belong to that visit)
    # "returns for her three-month pressure check", "27-year-old woman seen two days ago, when I removed ..."
    r"|\breturns?\s+for\s+(?:a\s+|her\s+|his\s+|their\s+)?(?:[\w-]+\s+){0,3}(?:check|follow[- ]?up|f/u|recheck)\b"
    r"|(?<!last\s)\bseen\s+(?:here\s+)?(?:\w+\s+)?(?:days?|weeks?)\s+ago\b"
    r"|^[^.\n]{0,30}\bchk\b|\b(?:\w+\s+)?(?:days?|weeks?|months?)\s+ago,?\s+(?:when\s+)?(?:(?:she|he|they|the\s+patient)\s+"
    r"came\s+in|(?:I|we)\s+(?:removed|diagnosed|treated|found|started|saw|placed|inserted))\b",
    _I,
)
# "seen today instead of next month because of ...", "came in today, two weeks early": a scheduled follow-up moved
# up, a follow-up when what it found is the known chronic problem's own turn
_MOVED_UP = re.compile(
    r"\btoday\s+instead\s+of\s+(?:next|her|his|their|the)\b"
    r"|\b(?:came|come|comes|seen|here|in)\b[^.\n]{0,20}?\b(?:days?|weeks?|months?)\s+early\b",
    _I,
)
# a known problem named in the opening ("with known keratoconus", "has been followed here for ...")
_KNOWN_PROBLEM = re.compile(
    r"\bwith\s+known\s+(?!to\b)\w+|\b(?:has|have)\s+been\s+followed\s+(?:here|by\s+us|in\s+this\s+(?:office|clinic)|for)\b",
    _I,
)
# an assessment item the doctor marks as new ("CNV OS, new.", "new onset"), never "new defect" (progression)
_ASSESSED_NEW = re.compile(
    r"[,;(-]\s*(?:(?:OD|OS|OU)\s+)?new\s*(?:[.,;)]|$|since\b|as\s+of\b|today\b|this\s+visit\b)"
    r"|[,;(-]\s*(?:a\s+|this\s+is\s+a\s+)?new\s+(?:problem|diagnosis|finding|issue)\b"
    r"(?!\s*(?:in\s+|on\s+|at\s+)?(?:\d{1,2}/\d{2,4}|(?:19|20)\d\d|last))"
    # "neovascular AMD, right eye, new and active" (not "new and active CNV ruled out on OCT")
    r"|[,;(-]\s*new\s+and\s+(?:active|acute)\b(?![^.;\n]*\b(?:ruled\s+out|r/o|excluded)\b)"
    r"|\bnew(?:ly)?[- ](?:onset|diagnosed)\b|\bnew\s+diagnosis\b(?!\s*(?:in\s+|on\s+)?(?:\d{1,2}/\d{2,4}|(?:19|20)\d\d|last))"
    # a new diagnosis of its own, not a new finding of the known one ("new disc heme" is progression)
    r"|(?<!\bwas\s)(?<!\bwas\sa\s)\bnew\s+(?:acute\s+|fresh\s+)?(?:center[- ]involving\s+|clinically\s+significant\s+)?(?:macular\s+edema|DME|CME|CNV|choroidal"
    r"\s+neovasc\w*|retinal\s+(?:tear|detachment|hole)|PVD|(?:branch\s+|central\s+)?(?:retinal\s+)?vein\s+occlusion"
    r"|BRVO|CRVO|(?:exudative|wet|neovascular)\s+(?:AMD|ARMD|macular\s+degeneration))\b"
    r"|\b(?:new|wet)\s+conversion\b|\bconverted\s+to\s+(?:wet|exudative|neovascular)\b",
    _I | re.M,
)
_ALSO_NEW = re.compile(
    r"\bnew\s+today\s*:"
    r"|(?-i:\b(?:NEW|New)(?:\s+(?:concerns?|complaints?|issues?|problems?))?\s*:)(?!\s*(?:none|no\b|nil|nothing|n/a|denies))"
    # "mentioned a new itch", "Also: new floaters", "also reports new ..." (not "no new", not new glasses)
    r"|\b(?:mentioned|also\s*[:,-]?)\s+(?![^.;\n]{0,60}\bno\s+new\b)(?:[^.;\n]{0,60}?\s)?new\b"
    r"(?!\s+(?:[\w-]+\s+)?(?:glasses|specs|spectacles|Rx|contacts|lenses|readers|progressives|frames?)\b)"
    r"|\balso\s+(?:c/o|complains?|complaining|noticed)\b|\bin\s+addition\b[^.;\n]{0,20}"
    r"\b(?:c/o|complains?)\b"
    # "back three weeks after a PVD ... but since yesterday he has noticed a new cluster of specks"
    r"|\b(?:has|have)\s+(?:now\s+)?noticed\s+(?:a\s+|some\s+)?new\b",
    _I,
)
# "Four-month macular check for ...": a scheduled interval visit, unless the opening also names a new symptom
# "3-month pressure check", "Four-month visit for her glaucoma and macular degeneration"
_INTERVAL_CHECK = re.compile(
    r"^[^\n]{0,40}?\b\w+[- ](?:months?|mo|weeks?|wks?)\s+(?:\w+\s+){0,2}(?:check|visit\s+for\s+(?:her|his|their)\b)",
    _I,
)
_EARLIER_OTHER_VISIT = re.compile(
    r"\b(?:saw|was\s+seen\s+by|visited)\s+(?:Dr\.?\s|our\s|the\s|an?\s)[^.\n]*?"
    # (up to a clause of its own: "... in 2023 and comes back today for his pressure check" keeps today's visit)
    r"\b(?:in\s+(?:19|20)\d\d|\d+\s+years?\s+ago|last\s+year)\b[^.,;\n]*?(?=\s+and\s|[.,;\n]|$)",
    _I,
)
_SECOND_REASON = re.compile(r";|\s[+&/]\s|,\s+(?:and\s+|also\s+|plus\s+)|\s(?:and\s+also|plus)\s", _I)
# a second reason that is no new problem: the known one improving, a lab, a drug run out, glasses
_NOT_A_NEW_REASON = re.compile(
    r"\b(?:less|better|improv\w*|resolv\w*|gone|cleared|A1c|BP|blood\s+pressure|labs?|ran\s+out|out\s+of|missed)\b",
    _I,
)
_BARE_COMMA = re.compile(r",\s+(?=(?P<reason>[^,;.\n]{3,60}))")
# the known problem's own course ("f/u dry eye, worse x 3 days"), not a second reason
_OWN_COURSE = re.compile(
    r"\b(?:worse\w*|flare\w*|again|still|recur\w*|same|fading|resolving|stopped|gone|cleared|ended)\b", _I
)


def _bare_comma_reason(opening: str, start: int) -> re.Match[str] | None:
    """ "3 mo IOP ck, red eye OS x 2d": a second reason after a bare comma, when it names a new symptom and its
    onset."""
    for comma in _BARE_COMMA.finditer(opening, start):
        reason = comma.group("reason")
        if _NEW_PROBLEM.search(reason) and _ACUTE.search(reason) and not _OWN_COURSE.search(reason):
            return comma
    return None


_SEPARATELY = re.compile(r"\bseparately\b[^.;\n]{0,40}\b(?:has\s+had|c/o|complains?|noticed)\b", _I)
_REFERRED = re.compile(
    r"\b(?:referred|ref['’]?d|sent)\s+(?:in\s+|over\s+|to\s+(?:me|us|our\s+(?:office|clinic|practice))\s+)?by\b"
    # (not "referred to us by Dr. Kim in 2021": an old referral)
    r"(?![^;\n]{0,40}?\b(?:in\s+(?:19|20)\d\d|years?\s+ago)\b)",
    _I,
)
_STATUS_ONLY = re.compile(
    r"\b(?:stable|unchanged|improv\w*|better|resolv\w*|healing|healed|controlled|at\s+(?:target|goal)|quiet"
    r"|no\s+change|doing\s+well|progress\w*|worse\w*|not\s+at\s+(?:target|goal)|uncontrolled)\b",
    _I,
)


def _reason_text(note: ParsedNote) -> str:
    """The chief complaint and the note's first sentences, up to a few hundred characters."""
    complaint = [note.span(c) for c in note.sentences if c.section == SectionKind.COMPLAINT]
    head: list[str] = []
    for sentence in note.sentences:
        if sentence.section not in (SectionKind.BODY, SectionKind.HISTORY, SectionKind.COMPLAINT):
            break
        head.append(note.span(sentence))
        if sum(len(h) for h in head) >= _REASON_CHARS:
            break
    return ". ".join(dict.fromkeys([*complaint[:2], *head]))  # sentence ends keep a negation in its sentence


_SEEN_BEFORE = re.compile(
    r"\b(?:which|that|when)\s+(?:we|I)\s+(?:diagnosed|saw|treated|found)\b|\breturns?\b|\bis\s+back\b", _I
)
_AFTER_THE = re.compile(r"\b(?:weeks?|days?|months?)\s+after\s+(?:the|a|an|his|her|their)\s+$", _I)
_TREATED_WITH = re.compile(
    r"\b(?:treated\s+with|using|taking|(?:has\s+been|is|been)\s+on)\b(?:(?!\b(?:and|but|has|have|had|with)\b)[^.;,\n]){0,60}$",
    _I,
)


# the onset an earlier visit was for: "Four weeks ago she had a sudden large floater", "after he was seen for new floaters"
_EARLIER_ONSET = re.compile(
    r"\b(?:days?|weeks?|months?)\s+ago,?\s+(?:she|he|they|the\s+patient)\s+(?:had|noticed|developed|reported|presented"
    r"\s+with)\b[^.;]{0,30}$|\b(?:was|were|been)\s+seen\s+(?:here\s+)?(?:\w+\s+){0,3}?for\s+$",
    _I,
)
_DRUG_LAPSE = re.compile(r"\b(?:out\s+of|ran\s+out|run\s+out|stopped|missed|off)\b[^.;]{0,30}$", _I)


def _new_problem_cues(text: str, patterns: tuple[re.Pattern[str], ...]) -> list[re.Match[str]]:
    """New-problem words that are not negated ("no new floaters") and not a glasses complaint."""
    found = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 60) : match.start()]
            around = text[max(0, match.start() - 40) : match.end() + 40]
            # "Horseshoe tear w/o detachment OD - new": the dash closes the negation
            if _NEGATED_CUE.search(before) and not match.group().startswith(("-", "–")):
                continue
            if match.group().lower().startswith("blur") and _GLASSES_CONTEXT.search(around):
                continue
            if re.match(r"since\s+last\s+(?:visit|exam)", text[match.start() :], _I):
                continue
            # "returns four weeks after the sudden onset of floaters, which we diagnosed as a PVD": that visit's onset
            if _AFTER_THE.search(before) and _SEEN_BEFORE.search(text):
                continue
            # "treated with latanoprost at bedtime in both eyes since last July": how long a drug has been used
            if match.group().lower().startswith("since") and _TREATED_WITH.search(before):
                continue
            if _EARLIER_ONSET.search(before):
                continue
            # "Out of latanoprost since yesterday": a lapse in a drug, not a symptom's onset
            if match.group().lower().startswith("since") and _DRUG_LAPSE.search(before):
                continue
            found.append(match)
    return found


def _is_follow_up(note: ParsedNote, assessed: list[FoundDiagnosis]) -> bool:
    """A known problem checked again: a follow-up cue in the visit's reason and no new problem there, or (no
    cue either way) an assessment whose every item carries only a status (stable, improving, resolving ...)."""
    # "Chalazion of the left upper eyelid, new.": the doctor says the visit found a new problem
    # ("no new CNV" is not)
    assessment = [note.span(c) for c in note.clauses if c.section == SectionKind.ASSESSMENT]
    if any(_new_problem_cues(text, (_ASSESSED_NEW,)) and not _KNOWN.search(text) for text in assessment):
        return False
    reason, opening = _reason_text(note), _opening(note)
    if _new_problem_cues(reason, (_NEW_ONSET,)):
        return False  # "returns with a new complaint", "sudden floaters"
    if (
        _LENS_FOLLOW_UP.search(opening)
        and any(d.condition and not d.condition.chronic for d in assessed)
        # "CL follow-up, 5 days after we treated a lens-related abrasion": the opening names the problem followed
        and not any(p.search(opening) for d in assessed if d.condition for p in d.condition.patterns)
    ):
        return False  # "returns two weeks after her lens fitting ... punctate keratitis": the lens check found it
    # the first line or chief complaint decides: an explicit follow-up named before any new symptom
    # ("71F f/u SCH OS, first seen 6/9 (noticed red spot ...)"), else a new symptom ("c/o red eye")
    stated = _STRONG_FOLLOW_UP.search(opening)
    if (
        stated is None
        and assessed
        and all(d.condition is not None and d.condition.chronic for d in assessed)
        and any(_PROGRESSION.search(text) for text in (assessment or [note.text]))
    ):
        stated = _MOVED_UP.search(reason)  # the known problem's exacerbation moved the visit up
    symptoms = sorted(_new_problem_cues(opening, (_NEW_PROBLEM, _ACUTE)), key=lambda m: m.start())
    if stated and symptoms and re.search(r"\bknown\b", stated.group(), _I):
        stated = None  # "68 y/o with known glaucoma presents with new flashes": the known problem is not the reason
    # "3 mo IOP ck. ... New today: red patch R eye", "AMD f/u. Also c/o itchy eyes": a follow-up that found a
    # second, new problem is a new-problem visit (README: E/M only for a known problem with nothing new)
    # "Separately, for about three weeks he has had a painless lump ..." anywhere in the history
    told = " ".join(
        note.span(c) for c in note.sentences if c.section not in (SectionKind.ASSESSMENT, SectionKind.PLAN)
    )
    also_new = _new_problem_cues(reason, (_ALSO_NEW,)) or _SEPARATELY.search(told)
    if also_new and len({d.group for d in assessed}) >= 2:
        return False
    # "3-month recheck hypertensive retinopathy; red spot right eye since yesterday": a second, new reason (not
    # "; requests new distance glasses")
    second = _SECOND_REASON.search(opening, stated.end()) if stated else None
    if stated and second is None and _new_acute_problems(note, opening, assessed):
        second = _bare_comma_reason(opening, stated.end())
    if (
        second
        and len({d.group for d in assessed}) >= 2
        and any(m.start() >= second.end() for m in _new_problem_cues(opening, (_NEW_PROBLEM, _ACUTE)))
        and not _GLASSES_CONTEXT.search(opening, second.end())
        and not _NOT_A_NEW_REASON.search(opening, second.end())
    ):
        return False
    if stated and _leads_with_another_problem(opening, assessed):
        return False
    if stated and (not symptoms or stated.start() <= symptoms[0].start()):
        return True
    # "This 22-year-old with known keratoconus returns for his topography check" (a later "has become blurrier" is
    # its progression); an opening that also names a symptom is left to the checks below
    if not symptoms and (_KNOWN_PROBLEM.search(opening) or _INTERVAL_CHECK.search(opening)):
        return True
    if _REFERRED.search(opening):
        return False  # "Referred by PCP - uncontrolled blood pressure, eye check": sent for a new evaluation
    if symptoms or _new_problem_cues(reason, (_DEVELOPED,)):
        return False  # "returns because the vision has become hazy over the past two months"
    # "he saw Dr. Lindqvist, our ophthalmologist, in 2023 for a strabismus check": that visit's check, not today's
    if _FOLLOW_UP.search(_EARLIER_OTHER_VISIT.sub(" ", reason)):
        return True
    if _new_problem_cues(reason, (_NEW_PROBLEM,)):
        return False  # "red sticky eyes x 2d" a few lines down
    items = [
        note.span(c)
        for c in note.clauses
        if c.section == SectionKind.ASSESSMENT
        and any(
            not _CONTINGENT_CUE.search(note.span(c)[: m.start()][-16:])
            for m in _STATUS_ONLY.finditer(note.span(c))
        )
    ]
    # a drug-use code beside its disease ("type 2 diabetes ... unchanged" with Z79.84) is no problem of its own
    problems = {d.group for d in assessed if d.source != "derived"}
    return bool(assessed) and bool(items) and len(items) >= len(problems)


_VISIT_LABEL = re.compile(
    r"^[ \t]*(?:visit(?:[ \t]+type)?|appointment(?:[ \t]+type)?|appt(?:[ \t]+type)?|encounter[ \t]+type"
    r"|reason[ \t]+for[ \t]+visit)[ \t]*:[ \t]*([^\n]+)",
    _I | re.M,
)


# a symptom's onset told in the history: "since Friday", "since last week", "appeared about two weeks ago"
_ONSET = re.compile(
    _ACUTE.pattern + r"|\bsince\s+last\s+(?:week(?:end)?|night)\b"
    r"|\b(?:a|one|two|three|four|five|six|a\s+few|several|\d+)\s+(?:days?|weeks?)\s+ago\b"
    r"|\b(?:started|began)\s+(?:yesterday|this\s+morning|last\s+(?:night|week))\b|\bover\s+the\s+weekend\b"
    r"|\bfor\s+(?:the\s+(?:past|last)\s+)?(?:a|one|two|three|four|five|six|\d+|a\s+few|several)\s+days?\b",
    _I,
)
_SYMPTOM_WORD = re.compile(
    r"\b(?:itch\w*|water\w*|tearing|red(?:ness)?|pain\w*|sore|floaters?|flash\w*|cobweb|bump|lump|nodule|swell\w*"
    r"|swollen|puffy|discharge|blurr?\w*|burn\w*|gritty|sticky|crust\w*|spots?)\b",
    _I,
)
# "Five weeks ago she noticed a cobweb floater and was diagnosed here": the onset of what the visit follows
_DIAGNOSED_THEN = re.compile(r"\b(?:diagnosed|was\s+seen|were\s+seen|treated|found\s+to\s+have)\b", _I)
# the steroid's pressure rise found today, and not the reason of a pressure check
_RISE_TODAY = re.compile(
    r"\b(?:rise|rising|elevat\w*|raised|increase\w*|spike\w*)\b|\b(?:IOP|pressures?)\s*(?:of\s+)?(?:2[2-9]|[3-6]\d)\b",
    _I,
)
# "2) new elevated intraocular pressure": the item the finding opens calls it new
_NEW_ITEM = re.compile(r"(?:^|[\d.):;,]\s*)new\b(?:[^.;\n\d]|\d(?![.)]))*$", _I)
_PRESSURE_CHECK = re.compile(r"\b(?:IOP|pressure)\s+(?:check|ck|recheck)\b|\bsteroid\s+respon\w*", _I)
_AT_AN_EARLIER_VISIT = re.compile(r"\b(?:last|previous|prior|earlier)\s+(?:visit|exam\w*|appointment)\b", _I)
# "no flashes x 3 wk", "no flashes or new floaters": a symptom denied
_NEGATED_SYMPTOM = re.compile(
    r"\b(?:no|not|none|denies|denied|without|nor|negative\s+for)\b[ \t:]*(?:[\w/-]+,?\s+(?:(?:or|and)\s+)?){0,5}$",
    _I,
)
# the eye, in a sentence telling a symptom (not "sore throat and cough since last week")
_EYE_WORD = re.compile(
    r"\b(?:eyes?|O[DSU]|(?:eye)?lids?|lashes|vision|visual|floaters?|flash\w*|cobweb|tear\w*|watery)\b", _I
)
# "red, itchy eyes since starting Rhopressa": the treatment's side effect, not a new problem
_SINCE_A_DRUG = re.compile(
    r"\b(?:after|since)\s+(?:(?:she|he|they|we|I)\s+)?(?:start\w*|began|beginning|switch\w*|added|adding)\b",
    _I,
)
_DENIED_START = re.compile(r"^\W*(?:no|denies|without|negative)\b|:\s*none\b", _I)
_EXAMINED = frozenset({SectionKind.ASSESSMENT, SectionKind.PLAN, SectionKind.EXAM, SectionKind.TESTS})


def _new_acute_problems(
    note: ParsedNote, opening: str, assessed: list[FoundDiagnosis]
) -> list[FoundDiagnosis]:
    """Acute problems the assessment names today and the visit's reason does not, with no course of their own
    ("resolving", "improving", "stable": a problem found today has none), beside another problem."""
    if len({d.group for d in assessed}) < 2:
        return []
    named = _groups_named(opening)
    found = []
    for d in assessed:
        # (a refractive error beside the follow-up is the glasses, not a new problem)
        if d.condition is None or d.condition.chronic or d.condition.group in named | {"refractive"}:
            continue
        clause = note.sentence_at(d.position)
        if clause is not None and _STATUS_ONLY.search(note.span(clause)):
            continue
        found.append(d)
    return found


def _new_problem_told(note: ParsedNote, opening: str, assessed: list[FoundDiagnosis]) -> bool:
    """A follow-up that found a steroid's pressure rise today, leading the assessment, or whose history also tells a
    new symptom and its onset ("At check-in she reported that since Friday she has seen a cobweb floater", "While here
    he asked about a bump that appeared about two weeks ago", a chief complaint under a "Visit: PCO recheck" label),
    assessed as an acute problem the visit's reason does not name: a second, new problem (README: E/M only for a
    known problem with nothing new)."""
    # "returns three weeks into loteprednol ... Assessment: 1. Steroid-induced rise in IOP", or further down the
    # assessment when it says so: "2) new elevated intraocular pressure ... from the topical steroid"
    if len({d.group for d in assessed}) >= 2 and not _PRESSURE_CHECK.search(opening):
        for index, rise in enumerate(assessed):
            clause = note.sentence_at(rise.position)
            if rise.condition is None or rise.condition.id not in _FOUND_AT_RECHECK_IDS or clause is None:
                continue
            text = note.span(clause)
            if _RISE_TODAY.search(text) and (
                index == 0 or _NEW_ITEM.search(text[: rise.position - clause.start + 1])
            ):
                return True
    if not _new_acute_problems(note, opening, assessed):
        return False
    for clause in note.sentences:
        text = note.span(clause)
        if (
            clause.section in _EXAMINED
            or _STRONG_FOLLOW_UP.search(text)
            or _DENIED_START.search(text)
            or _DIAGNOSED_THEN.search(text)
        ):
            continue
        symptoms = [
            m for m in _SYMPTOM_WORD.finditer(text) if not _NEGATED_SYMPTOM.search(text, 0, m.start())
        ]
        if (
            _ONSET.search(text)
            and _EYE_WORD.search(text)
            # (not "1 wk f/u red eye OS. Redness started two weeks ago": the symptom the visit follows)
            and any(
                not re.search(rf"\b{re.escape(m.group()[:4])}", opening.replace(text, " "), _I)
                for m in symptoms
            )
            and not _SINCE_A_DRUG.search(text)
            and not _OWN_COURSE.search(text)
            and not _NOT_A_NEW_REASON.search(text)
            and not _AT_AN_EARLIER_VISIT.search(text)
        ):
            return True
    return False


# what a recheck finds that is a problem of its own: a retinal break, a vascular occlusion
_FOUND_AT_RECHECK = frozenset({"retina_periphery", "retina_vascular"})
# a steroid's pressure rise found at the recheck of the problem the steroid treats
_FOUND_AT_RECHECK_IDS = frozenset({"steroid_responder"})


def _leads_with_another_problem(opening: str, assessed: list[FoundDiagnosis]) -> bool:
    """The recheck of one problem found another, acute one, which leads the assessment: "Scheduled recheck of the
    PVD ... Impression: horseshoe retinal tear of the right eye ... in the setting of the known PVD"."""
    lead = assessed[0].condition if assessed else None
    if lead is None or lead.group not in _FOUND_AT_RECHECK:
        return False
    return lead.group not in _groups_named(opening)


def _groups_named(text: str) -> set[str]:
    """The condition groups whose words the text names (the problems a visit's reason says it is for)."""
    return {c.group for c in load_lexicon().conditions if any(p.search(text) for p in c.patterns)}


def _opening(note: ParsedNote) -> str:
    """The reason for the visit: the chief complaint, else the first sentence of the note."""
    complaint = [c for c in note.sentences if c.section == SectionKind.COMPLAINT]
    if complaint:
        # the whole chief-complaint line: "6-month DR check; new wavy vision OS x 2 weeks" names both reasons
        start = complaint[0].start
        line = note.text[start : max(line_bounds(note.text, start)[1], complaint[0].end)]
        # "VISIT TYPE: Glaucoma follow-up" above the complaint states the visit's reason too
        label = _VISIT_LABEL.search(note.text, 0, start)
        return f"{label.group(1)}. {line}" if label else line
    for index, sentence in enumerate(note.sentences):
        text = note.span(sentence)
        if re.match(r"\s*(?:Dear\b|Re:|RE:)", text) or _PHONE_NOTE.match(
            note.text, line_bounds(note.text, sentence.start)[0]
        ):
            continue  # (a phone note before the visit tells what led to it, not the visit's reason)
        # "Walk-in. Woke up w/ red spot L eye this AM.": a bare label opens the note, the reason follows it
        if _BARE_LABEL.fullmatch(text) and index + 1 < len(note.sentences):
            return f"{text}. {note.span(note.sentences[index + 1])}"
        return text
    return note.span(note.sentences[0]) if note.sentences else ""


# "Neovascular AMD OS, known, on Eylea - new and active fluid": a known problem's course
_KNOWN = re.compile(r"\bknown\b", _I)
_PHONE_NOTE = re.compile(r"[ \t]*(?:phone|telephone)\s+(?:note|call|encounter|msg|message)\b", _I)
_BARE_LABEL = re.compile(
    r"\s*(?:(?:walk|work)[- ]?in|urgent|same[- ]day|add[- ]on|emergency|scribe\s+note(?:\s+for\s+[^\n]{0,60})?"
    r"|OV\s+\d{1,2}/\d{1,2}/\d{2,4})\s*",
    _I,
)


# "last examined in 2024 for a routine exam", "Hx: last exam 3/25 routine": an earlier visit, not today's
_EARLIER_VISIT = re.compile(
    r"\blast\s+(?:exam\w*|seen|visit|eye\s+(?:exam|visit)|here|in|annual)|\bprevious(?:ly)?\b|\bprior\b|\bin\s+(?:19|20)\d\d\b|\bago\b"
    # "established with Dr. R for her yearly eye exams": the visits she usually has, not this one
    r"|\b(?:yearly|annual|routine)\s+(?:eye\s+)?(?:exams|visits|check-?ups)\b"
    # "had his annual dilated exam here in September"
    r"|\bhad\s+(?:his|her|their|an?)\s+(?:[\w-]+\s+){0,3}(?:exam|visit|check-?up)\b(?![^.\n]*\btoday\b)"
    r"|\b(?:here|seen)\s+in\s+(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
    # "a complete examination by Dr. Lee on April 18, 2023", "seen in April 2023", "exam on 18 April 2023"
    r"|\b(?:exam\w*|visit|seen)\b(?:[^.;\n]|\bDr\.){0,30}?\b(?:on|in)\s+(?:\d{1,2}\s+)?(?:January|February|March|April|May|June"
    r"|July|August|September|October|November|December)\s+(?:\d{1,2},?\s+)?(?:19|20)\d\d\b"
    r"|(?<![\d/.])\b(?:0?[1-9]|1[0-2])/(?:20)?\d{2}\b(?![/\d.])",
    _I,
)


def _comprehensive_words_today(note: ParsedNote) -> bool:
    """A comprehensive-visit word in the note's opening lines, not in a sentence about an earlier visit nor one
    about the next ("Return for his annual exam", "she will return in June for her annual exam")."""
    return any(
        not _NEXT_VISIT_BEFORE.search(text, 0, m.start())
        for s in note.sentences
        if s.start < 400 and not _EARLIER_VISIT.search(text := note.span(s))
        for m in _COMPREHENSIVE_WORDS.finditer(text)
    )


_NEXT_VISIT_BEFORE = re.compile(
    r"\b(?:return\w*|RTC|next|schedul\w*|will|come\s+back|f/u\s+in|follow[- ]up\s+in|back\s+in)\b[^.;\n]{0,40}$",
    _I,
)


def _problems(
    diagnoses: list[FoundDiagnosis], note: ParsedNote, elsewhere: list[FoundDiagnosis], prescribed: bool
) -> Level:
    groups: dict[str, list[FoundDiagnosis]] = {}
    for diagnosis in diagnoses:
        condition = diagnosis.condition
        if condition is None or condition.refractive or condition.status or condition.systemic:
            continue
        groups.setdefault(condition.group, []).append(diagnosis)
    chronic = [g for g in groups.values() if any(d.condition and d.condition.chronic for d in g)]
    others_only = _procedure_only_clause(elsewhere, diagnoses)
    assessed = _decision_text(note, (SectionKind.ASSESSMENT,), others_only)
    plan = _decision_text(note, (SectionKind.PLAN,), others_only)
    progressing = bool(chronic) and (
        any(
            not _CONTINGENT_CUE.search(text[: m.start()][-16:])
            for text in (assessed, plan)
            for m in _PROGRESSION.finditer(text)
        )
        or _side_effect_treated(note)
        or any(d.condition and "unstable" in d.condition.id for g in chronic for d in g)
    )
    if progressing or len(chronic) >= 2:
        return Level.MODERATE
    if chronic:
        return Level.LOW
    # a self-limited problem, or an acute one the assessment calls healed ("corneal abrasion OS - healed"); one that
    # needs a prescription drug ("episcleritis OD, resolving. FML BID x 1 week") is an acute uncomplicated illness
    minor = [
        g
        for g in groups.values()
        if all(d.condition and ((d.condition.self_limited and not prescribed) or _healed(note, d)) for d in g)
    ]
    if len(groups) - len(minor) >= 1 or len(minor) >= 2:
        return Level.LOW
    return Level.MINIMAL


_HEALED = re.compile(
    r"[-–:,][ \t]*(?:(?:now|fully|completely)[ \t]+)?(?:healed|resolved)\b(?![ \t]+(?:centrally|partially|except))"
    r"(?![^\n]*\b(?:remains?|persists?|residual)\b)",
    _I,
)


def _healed(note: ParsedNote, diagnosis: FoundDiagnosis) -> bool:
    """An acute problem the assessment line calls healed or resolved."""
    return any(
        _HEALED.search(note.text[slice(*line_bounds(note.text, start))])
        for start, _ in diagnosis.evidence
        if any(x.start <= start < x.end for x in note.sections if x.kind == SectionKind.ASSESSMENT)
    ) and not (diagnosis.condition and diagnosis.condition.chronic)


def _side_effect_treated(note: ParsedNote) -> bool:
    """A side effect named in the assessment or plan, in a sentence that changes the treatment or followed by
    one (the problem's plan bullets: "#1 MGD - GI side effects from doxycycline" then "- d/c doxycycline")."""
    decisions = [s for s in note.sentences if s.section in (SectionKind.ASSESSMENT, SectionKind.PLAN)]
    drugs = load_lexicon().rx_drugs
    for index, sentence in enumerate(decisions):
        text = note.span(sentence)
        named = any(not _CONTINGENT_CUE.search(text[: m.start()][-16:]) for m in _SIDE_EFFECT.finditer(text))
        # "follicular conj OU - brimonidine allergy", "reaction to dorzolamide": the drug's own adverse effect
        since = _since_drug_started(text, drugs)
        if (
            not named
            and since is None
            and not any(
                (
                    _DRUG_REACTION_AFTER.match(text, m.end())
                    or _DRUG_REACTION_BEFORE.search(text[: m.start()][-30:])
                )
                and not _DENIED_BEFORE.search(text[: m.start()][-30:])  # "no reaction to brimonidine"
                for m in drugs.finditer(text)
            )
        ):
            continue
        # "... since brimonidine started" itself says "started": the change must come after it
        following = [text[since:]] if since is not None and not named else [text]
        following += [note.span(s) for s in decisions[index + 1 : index + 3]]
        if any(_TREATMENT_CHANGE.search(part) for part in following):
            return True
    return False


def _since_drug_started(text: str, drugs: re.Pattern[str]) -> int | None:
    """Where the first "reports dry mouth since brimonidine started" ends: a complaint dated from a drug's start
    (whether it changes the treatment is read after it)."""
    for m in drugs.finditer(text):
        before = text[: m.start()]
        after = _SINCE_DRUG_AFTER.match(text, m.end())
        if (
            _COMPLAINT_WORDS.search(before)
            and _SINCE_DRUG_BEFORE.search(before[-30:])
            and (after or before.rstrip().endswith("starting"))
        ):
            return after.end() if after else m.end()
    return None


# "FHx: glaucoma; her mother says she lost the sight of one eye to it": the relative's history, not a historian
_FAMILY_LINE = re.compile(
    r"[ \t]*(?:FHx?|family(?:\s*/\s*social)?\s+(?:history|hx)|social\s*/\s*family\s+(?:history|hx))\b", _I
)


def _data(note: ParsedNote) -> Level:
    items = sum(
        len(_EXTERNAL_DATA.findall(note.span(c)))
        for c in note.sentences
        if (
            _REVIEWED.search(note.span(c))
            or _REVIEWED_LABEL.match(note.text, line_bounds(note.text, c.start)[0])
        )
        and re.search(
            r"outside|external|retina|clinic|their|PCP|primary|referring|endocrin|\bendo\b|rheumat|neurolog|cardiolog|facility"
            r"|\bDr\.?\s+[\w-]+['’]s\b"
            r"|nursing|memory\s+care|hospital|emergency|\bE[DR]\b|transfer|discharge",
            note.span(c),
            _I,
        )
    )
    historian = any(
        not _FAMILY_LINE.match(note.text, line_bounds(note.text, m.start())[0])
        for m in _HISTORIAN.finditer(note.text)
    )
    # discussing management with an outside physician is its own category of data, worth moderate (AMA MDM)
    # AMA category 1: any three of external notes or results reviewed and an independent historian
    if items + historian >= 3 or _DISCUSSED.search(note.text):
        return Level.MODERATE
    return Level.LOW if items >= 2 or historian else Level.MINIMAL


# "not on timolol", "stopped the tears": a product named but not managed today
_STOPPED_BEFORE = re.compile(
    r"\b(?:no|not\s+(?:on|taking|using)|off|stopped|finished|completed|never)\b[^.;\n]*$", _I
)
_STOP_OTC_BEFORE = re.compile(r"\b(?:stop|d/c|discontinue)(?:\s+(?:the|her|his|using)){0,2}\s*$", _I)
_CONTINUE_CURRENT = re.compile(
    r"\b(?:cont(?:inue)?|keep\s+up|resume)\s+(?:the\s+|her\s+|his\s+|current\s+|same\s+)*(?:tears|lubricants?|regimen)\b",
    _I,
)
# "vitamins still not indicated": a product the plan decides against
_NOT_INDICATED_AFTER = re.compile(
    r"[ \t]*(?:(?:are|is|still)[ \t]+)*(?:not|(?:are|is)n['’]t)[ \t]+(?:indicated|needed|necessary|recommended)\b",
    _I,
)
# "AREDS2 rediscussed, pt declines": a product the patient turns down
# (not "tears QID OU, pt declines punctal plugs": the refusal names another item)
_DECLINED_AFTER = re.compile(
    r"[^.;\n]{0,30}?\b(?:declines?|declined|refuses?|refused)\b(?=\s*(?:[.;,\n]|$|for\s+now|again|to\s+(?:re)?start))",
    _I,
)
# "ALLERGIES: Tobrex (rash)": a drug on an allergy line
_ALLERGY_LINE = re.compile(
    r"\ballerg(?:y|ies)\s*(?:list\s*)?[:-]|\ballergic\s+to\b|\bNKDA\b|\bintoleran(?:t|ce)\s+(?:to|of)\b", _I
)
# "Restasis d/c'd at 9/25 visit": a drug stopped at an earlier visit is not managed today
_STOPPED_EARLIER_AFTER = re.compile(
    r"\s*(?:was\s+)?(?:d/c'?d|discontinued|stopped)\s+(?:at|on|in)\s+(?:the\s+|her\s+|his\s+)?(?:\d|last|prior|previous)",
    _I,
)
# "he prefers to wait and declined referral", "would like to hold off" (not "prefers to wait on OS", the other eye;
# not "declines AREDS2", another item)
_SURGERY_DECLINED = re.compile(
    r"\b(?:declines?|declined|refuses?|refused|(?:prefers?|wants?|would\s+like)\s+to\s+(?:wait|hold\s+off)"
    r"|not\s+interested)\b(?!\s+(?:on|for|with)\s+(?:the\s+)?(?:OD|OS|right|left|other)\b)"
    r"(?![^.;\n]{0,15}\b(?:AREDS\w*|vitamins?|supplements?|drops?|tears|glasses|plugs?)\b)",
    _I,
)
_SURGERY_DECLINED_BEFORE = re.compile(r"\b(?:declines?|declined|refuses?|refused)\s+(?:the\s+|a\s+)?$", _I)
# "no treatment", "Plan: No medication." (not "no treatment changes": the drops go on)
_NO_TREATMENT = re.compile(
    r"\bno\s+(?:further\s+)?(?:treatment|tx|drops|meds|medications?)\b(?!\s+(?:chang|adjust|modif))", _I
)


# "Cycloplegic refraction today (cyclopentolate 1%)": a drop put in for the exam, not a drug the patient is given
_CYCLOPLEGIC = re.compile(r"cyclopentolate|atropine|homatropine|scopolamine", _I)
_FOR_THE_EXAM = re.compile(r"\bcyclo(?:plegi\w*|\b)|\brefract\w*|\bdilat\w*|\bin[- ]office\b", _I)
# "Mom instills atropine 1% ... every Saturday for penalization": a drug used at home
_HOME_USE = re.compile(
    r"\bpenaliz\w*|\bat\s+home\b|\bevery\b(?!\s+\d+\s*min)|\bdaily\b|\bweekends?\b|\b(?:qd|bid|tid|qid|qhs)\b",
    _I,
)


def _diagnostic_drop(note: ParsedNote, match: re.Match[str]) -> bool:
    """A cycloplegic named outside the plan in a sentence about the exam's refraction or dilation."""
    sentence = note.sentence_at(match.start())
    return (
        _CYCLOPLEGIC.fullmatch(match.group()) is not None
        and sentence is not None
        and sentence.section not in (SectionKind.ASSESSMENT, SectionKind.PLAN)
        and _FOR_THE_EXAM.search(note.span(sentence)) is not None
        and _HOME_USE.search(note.span(sentence)) is None
    )


def _risk(note: ParsedNote) -> Level:
    lexicon = load_lexicon()
    decisions = _decision_text(note, (SectionKind.ASSESSMENT, SectionKind.PLAN))
    no_treatment = _NO_TREATMENT.search(decisions)
    decided = [
        (x.start, x.end) for x in note.sections if x.kind in (SectionKind.ASSESSMENT, SectionKind.PLAN)
    ]
    # "no treatment" of one item while the plan goes on with the current tears does not stop those
    continued = _CONTINUE_CURRENT.search(decisions)
    # "Restasis d/c'd at 9/25 visit ... Feels about the same as on Restasis.": stopped earlier, every mention
    # outside the assessment and plan is that history
    stopped_earlier = {
        m.group().lower()
        for m in lexicon.rx_drugs.finditer(note.text)
        if _STOPPED_EARLIER_AFTER.match(note.text, m.end())
    }
    for match in lexicon.rx_drugs.finditer(note.text):
        # "Plan: No medication.": a drug the history names (started, then stopped) is not managed today
        if no_treatment and _outside(decided, match.start()):
            continue
        if match.group().lower() in stopped_earlier and _outside(decided, match.start()):
            continue
        # "ALLERGIES: Tobrex (rash)": a drug the patient reacts to is not managed
        if _ALLERGY_LINE.search(note.text, line_bounds(note.text, match.start())[0], match.start()):
            continue
        prefix = note.text[max(0, match.start() - 25) : match.start()]
        suffix = note.text[match.end() : match.end() + 60]
        if (
            _STOPPED_BEFORE.search(prefix)
            or _STOPPED_EARLIER_AFTER.match(suffix)
            or _diagnostic_drop(note, match)
        ):
            continue
        # a finished course, when the plan manages no drug today, is history
        if no_treatment and re.search(r"^[^.\n]*\b(?:finished|completed|done|stopped)\b", suffix, _I):
            continue
        return Level.MODERATE
    if re.search(r"\bcont(?:inue)?\s+(?:current\s+|both\s+)?(?:gtts|drops|meds)\b", note.text, _I):
        return Level.MODERATE
    # "taper PF qid x 1 wk, tid x 1 wk ...": a prescription steroid tapered is prescription drug management
    if re.search(
        r"\btaper(?:ed|ing)?\b[^.;\n]{0,30}\b(?:qid|tid|bid|qd|q\s?\d+h?|gtts|drops?|PF|pred\w*|steroids?)\b",
        _decision_text(note, (SectionKind.PLAN,)),
        _I,
    ):
        return Level.MODERATE
    plan = " ".join(
        note.span(c) for c in note.clauses if c.section in (SectionKind.ASSESSMENT, SectionKind.PLAN)
    )
    # "options ... including referral for vitrectomy; he prefers to wait and declined referral": no decision made
    if any(
        not _SURGERY_DECLINED.search(plan, m.end(), m.end() + 80)
        and not _SURGERY_DECLINED_BEFORE.search(plan, max(0, m.start() - 20), m.start())
        for m in _SURGERY_DECISION.finditer(plan)
    ):
        return Level.MODERATE
    # "if not gone in four to six weeks we will refer for incision and curettage": a decision for later, if at all
    decisions_made = (
        m
        for c in note.clauses
        if c.section in (SectionKind.ASSESSMENT, SectionKind.PLAN)
        for m in _MINOR_SURGERY_DECISION.finditer(note.span(c))
        if not _IF_BEFORE.search(note.span(c)[: m.start()])
    )
    if next(decisions_made, None) is not None:
        return Level.LOW
    for match in lexicon.otc_products.finditer(note.text):
        # "PF tears PRN, rarely" in the history while the plan says "no tx needed": nothing managed today
        if no_treatment and not continued and _outside(decided, match.start()):
            continue
        prefix = note.text[max(0, match.start() - 25) : match.start()]
        suffix = note.text[match.end() : match.end() + 40]
        # "May stop the AT": ending an over-the-counter product manages nothing
        if (
            _STOPPED_BEFORE.search(prefix)
            or _STOP_OTC_BEFORE.search(prefix)
            or _NOT_INDICATED_AFTER.match(note.text, match.end())
            or _DECLINED_AFTER.match(note.text, match.end())
        ):
            continue
        if re.search(
            r"^[^.;\n]*\bif\s+(?:sx|symptoms?|it|they|needed|irritation)\s+(?:return|recur|come)", suffix, _I
        ):
            continue  # only if symptoms come back: nothing is managed today
        return Level.LOW
    return Level.MINIMAL


def _outside(decided: list[tuple[int, int]], position: int) -> bool:
    """A note offset outside its assessment and plan sections (False when the note has none)."""
    return bool(decided) and not any(a <= position < b for a, b in decided)


def _decision_text(
    note: ParsedNote, kinds: tuple[SectionKind, ...], skip: Callable[[Clause], bool] = lambda _: False
) -> str:
    """The clauses of these sections (less those `skip` names); a narrative note without assessment or plan
    headings decides in its body."""
    if not (note.has(SectionKind.ASSESSMENT) or note.has(SectionKind.PLAN)):
        kinds = (*kinds, SectionKind.BODY)
    return " ".join(note.span(c) for c in note.clauses if c.section in kinds and not skip(c))


def _procedure_only_clause(
    elsewhere: list[FoundDiagnosis], diagnoses: list[FoundDiagnosis]
) -> Callable[[Clause], bool]:
    """Whether a clause names one of the `elsewhere` diagnoses and none of `diagnoses` ("1. DES OU - not
    controlled" on a plug day says nothing of the glaucoma the visit line is for)."""

    def holds(group: list[FoundDiagnosis], clause: Clause) -> bool:
        return any(clause.start <= start < clause.end for d in group for start, _ in d.evidence)

    return lambda clause: holds(elsewhere, clause) and not holds(diagnoses, clause)


def _high_stakes(note: ParsedNote) -> bool:
    """The assessment or plan states a threat to vision or decides on urgent surgery (not "no threat to ...")."""
    text = _decision_text(note, (SectionKind.ASSESSMENT, SectionKind.PLAN))
    return any(
        not _NOT_BEFORE.search(text[max(0, m.start() - 20) : m.start()]) for m in _HIGH_STAKES.finditer(text)
    )


def mdm(
    diagnoses: list[FoundDiagnosis], note: ParsedNote, elsewhere: list[FoundDiagnosis]
) -> tuple[Level, dict[str, str]]:
    """Medical decision making: the level that two of the three elements meet or exceed (`elsewhere`: diagnoses
    a same-day minor procedure treats, whose own clauses say nothing of this visit's problems)."""
    data, risk = _data(note), _risk(note)
    # a prescription the assessment or plan manages (not another doctor's drug in the history)
    prescribed = risk >= Level.MODERATE and bool(
        load_lexicon().rx_drugs.search(_decision_text(note, (SectionKind.ASSESSMENT, SectionKind.PLAN)))
    )
    problems = _problems(diagnoses, note, elsewhere, prescribed=prescribed)
    if problems and _high_stakes(note):
        problems, risk = Level.HIGH, Level.HIGH
    level = sorted((problems, data, risk), reverse=True)[1]
    return level, {"problems": problems.name.lower(), "data": data.name.lower(), "risk": risk.name.lower()}


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_MINUTES = r"(\d{1,3}|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|ten|fifteen)"
# "Total time today 48 min", "total time on this patient today ... was fifty minutes", "I spent 45 minutes"
_TOTAL_TIME = re.compile(
    rf"\btotal\s+time\b(?!\s+(?:in\s+(?:the\s+)?office|waiting|in\s+clinic))[^.\n]{{0,80}}?\b{_MINUTES}\s*"
    rf"(?:min(?:ute)?s?)\b(?![^.\n]{{0,15}}\b(?:wait|daily|per\s+day|a\s+day))"
    rf"|\b(?:a\s+)?total\s+of\s+{_MINUTES}\s*(?:min(?:ute)?s?)\s+(?:was|were)\s+spent\b"
    rf"|\b(?:I|we)\s+spent\s+(?:a\s+total\s+of\s+)?{_MINUTES}\s*(?:min(?:ute)?s?)\b[^.\n]{{0,80}}?\b(?:today|on\s+(?:this|the)"
    rf"\s+date|date\s+of\s+(?:service|the\s+encounter)|with\s+(?:her|him|them|the\s+patient)|on\s+(?:this|her|his|their)"
    rf"\s+(?:visit|care|encounter))",
    _I,
)
_NOT_THIS_DAY = re.compile(r"\b(?:last\s+week|yesterday|ago|last\s+month)\b", _I)
# minutes that meet each level, new and established patients (optometry-billing.md §1.2)
_TIME_THRESHOLDS = {
    True: ((40, Level.HIGH), (30, Level.MODERATE), (20, Level.LOW), (10, Level.MINIMAL)),
    False: ((60, Level.HIGH), (45, Level.MODERATE), (30, Level.LOW), (15, Level.MINIMAL)),
}


def _minutes(text: str) -> int:
    if text.isdigit():
        return int(text)
    return sum(_NUMBER_WORDS.get(part, 0) for part in re.split(r"[- ]", text.lower()))


def time_level(note: ParsedNote, established: bool) -> Level | None:
    """The E/M level the note's stated total time on the date of service meets, if it states one."""
    found = next(
        (
            m
            for m in _TOTAL_TIME.finditer(note.text)
            if not _NOT_THIS_DAY.search(
                note.span(sentence) if (sentence := note.sentence_at(m.start())) else ""
            )
        ),
        None,
    )
    if found is None:
        return None
    minutes = _minutes(next(group for group in found.groups() if group))
    return next((level for floor, level in _TIME_THRESHOLDS[established] if minutes >= floor), None)


def em_code(level: Level, established: bool) -> str:
    return f"9921{level + 1}" if established else f"9920{level + 1}"


def choose_visit(
    note: ParsedNote,
    request: CodingRequest,
    diagnoses: list[FoundDiagnosis],
    assessed: list[FoundDiagnosis],
    *,
    procedure_only: bool,
) -> VisitChoice:
    """The one exam line of the visit, or none (procedure-only or refraction-only visits). `assessed` are the
    problems the exam itself addresses (a procedure's own indication is included in the procedure)."""
    established = is_established(request, note)
    medical = [
        d
        for d in diagnoses
        if d.condition is not None
        and (not d.condition.refractive or d.condition.id in MEDICAL_REFRACTIVE)
        and not d.condition.status
    ]
    # "she will schedule her routine exam separately": a later visit, not this one
    routine_today = any(
        _ROUTINE_ASSESSED.search(text) and not _LATER_VISIT.search(text)
        for c in note.clauses
        if c.section == SectionKind.ASSESSMENT
        for text in (note.span(c),)
    )
    # "Explained that a glasses exam is not a Medicare benefit; patient agreed to self-pay": the doctor says so
    routine_today = (
        routine_today
        or bool(_NOT_A_BENEFIT.search(_decision_text(note, (SectionKind.PLAN,))))
        or any(
            # to the sentence's end past a semicolon ("...; none done today", "...; elected to proceed self-pay"),
            # not into the next sentence
            _ROUTINE_SELF_PAY.search(whole) and not _SELF_PAY_NOT_TODAY.search(whole)
            for c in note.sentences
            for whole in (re.match(r"[^.\n]*", note.text[c.start :]).group(),)
        )
    )
    routine = request.payer_kind == "vision" or not medical or routine_today
    if procedure_only:
        return VisitChoice(None, "none", False, established, rationale="minor procedure only: exam included")
    opening = _opening(note)
    # "Post-cat MRx. ... (quick look at SL, no full exam)": a refraction visit, not an exam
    no_exam = _NO_EXAM.search(note.text) or (
        _NO_FULL_EXAM.search(note.text) if _REFRACTION_OPENING.search(opening) else None
    )
    if no_exam:
        return VisitChoice(
            None,
            "none",
            False,
            established,
            [(no_exam.start(), no_exam.end())],
            "no exam performed today: only the services done are billed",
        )
    # a letter states the visit's reason further down: "Today he came in for his initial RGP lens fitting."
    stated = _FIT_REASON.search(note.text, 0, _REASON_CHARS * 2)
    reason_line = opening if _FIT_VISIT.search(opening) or stated is None else stated.group()
    fit_only = _FIT_VISIT.search(reason_line)
    if (
        fit_only
        and not _EXAM_WORDS.search(_EARLIER_EXAM.sub(" ", reason_line))
        and not _EARLIER_FIT.search(reason_line)
    ):
        # the opening may be built from a label and a sentence: the evidence is the fitting's words in the note
        in_note = _FIT_VISIT.search(note.text)
        return VisitChoice(
            None,
            "none",
            False,
            established,
            [(in_note.start(), in_note.end())] if in_note else [],
            "contact lens fitting visit: the fitting is the service, no exam was the reason",
        )
    elements = exam_elements(note)
    evidence = [span for span in elements.values() if span]
    if request.payer_kind == "vision":
        new, est = vision_exam_codes(request)
        code = est if established else new
        return VisitChoice(
            code,
            "vision_plan",
            True,
            established,
            evidence[:3],
            f"routine exam billed to the vision plan as {code}",
        )
    dilated = _dilated_both(note, elements)
    # the comprehensive elements: confrontation fields and motility, or (when fields are not gradable, as in a
    # young child) a full sensorimotor evaluation with the anterior segment and acuity
    full = bool(elements["motility"]) and bool(
        elements["fields"]
        or (
            (request.patient_age is None or request.patient_age < _FIELDS_GRADABLE_AGE)
            and _SENSORIMOTOR.search(note.text)
            and elements["slit_lamp"]
            and elements["acuity"]
        )
    )
    # "Sched as routine exam -> converted to medical visit. c/o new floaters": the complaint decides, not the word
    new_in_opening = bool(_new_problem_cues(opening, (_NEW_COMPLAINT, _NEW_ONSET)))
    keyword = not new_in_opening and bool(
        (_COMPREHENSIVE_WORDS.search(opening) and not _EARLIER_VISIT.search(opening))
        or (not _NEW_PROBLEM.search(opening) and _comprehensive_words_today(note))
    )
    # "Today I limited the examination to this problem": an intermediate exam, whatever else was looked at
    # a comprehensive-visit word does not make up for fields or motility the note says were not done
    skipped = any(_named_not_done(note, name) for name in ("fields", "motility"))
    comprehensive = (
        dilated and (full or (bool(keyword) and not skipped)) and not _LIMITED_EXAM.search(note.text)
    )
    if routine and (diagnoses or sum(1 for span in elements.values() if span) >= 5):
        code = (
            ("92014" if established else "92004")
            if dilated or full
            else ("92012" if established else "92002")
        )
        return VisitChoice(code, "comprehensive", True, established, evidence[:3], "routine eye exam")
    if comprehensive:
        code = "92014" if established else "92004"
        return VisitChoice(
            code,
            "comprehensive",
            False,
            established,
            evidence[:4],
            "comprehensive exam: dilated fundus and the full set of exam elements",
            complete=full and bool(keyword),
        )
    follow_up = _is_follow_up(note, assessed) and not _new_problem_told(note, _opening(note), assessed)
    if assessed is not diagnoses and assessed:
        # a minor-procedure day: the separate problem decides, a known chronic one checked (E/M) or a new one
        follow_up = not _SEPARATE_NEW.search(note.text) and all(
            d.condition is not None and d.condition.chronic for d in assessed
        )
    if follow_up:
        # the problems the minor procedure treats are not this visit's: their words do not rate it
        procedure_dx = [d for d in diagnoses if d not in assessed]
        level, parts = mdm(assessed, note, procedure_dx)
        # the level by total time on the date of service when the note states it and it reaches higher (AMA 2021)
        by_time = time_level(note, established)
        if by_time is not None and by_time > level:
            level, parts = by_time, {**parts, "time": by_time.name.lower()}
        code = em_code(level, established)
        reason = _reason_text(note)
        match = _FOLLOW_UP.search(reason) or _STATUS_ONLY.search(reason)
        start = note.text.find(match.group()) if match else -1
        span = [(start, start + len(match.group()))] if match and start >= 0 else []
        levels = sorted((Level[v.upper()] for v in parts.values()), reverse=True)
        return VisitChoice(
            code,
            "em",
            False,
            established,
            span,
            f"follow-up of a known problem, MDM {parts}",
            parts,
            complete=levels[0] == levels[1] == level,  # two elements at exactly the level: not borderline
        )
    code = "92012" if established else "92002"
    return VisitChoice(
        code, "intermediate", False, established, evidence[:3], "intermediate exam: a new problem evaluated"
    )


def failed_screening(note: ParsedNote) -> bool:
    return bool(_FAILED_SCREENING.search(note.text))


def routine_diagnosis(note: ParsedNote, diagnoses: list[FoundDiagnosis], request: CodingRequest) -> str:
    """Z01.0- for a routine exam: with or without abnormal findings, or after a failed vision screening."""
    abnormal = bool(diagnoses)
    if _FAILED_SCREENING.search(note.text):
        return "Z01.021" if abnormal else "Z01.020"
    return "Z01.01" if abnormal else "Z01.00"
