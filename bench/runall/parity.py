"""The parity step: the same URLs to the legacy service and the product."""

from __future__ import annotations

import json
import random
import urllib.parse

from runall.classes import S, q
from runall.client import Client
from runall.servers import Server


def step_parity(product: Server, legacy: Server, params: dict) -> dict:
    """Same URLs to both: totals and the page's rows must agree (the product's q also matches
    identifiers, so only name/text terms are compared)."""
    rng = random.Random(3)
    terms = params["q_terms"]
    urls = [q(S, page=p, page_size=20) for p in (1, 2, 7)]
    urls += [q(S, q=t, page=1, page_size=20) for t in rng.sample(terms["name_full"], 8)]
    urls += [
        q(S, q=t, page=1, page_size=20) for t in terms["surname"][:3] + terms["description"][:3]
    ]
    urls += [q(S, exam_item=i, page=2, page_size=20) for i in rng.sample(params["exam_items"], 4)]
    urls += [q(S, exam_status=params["exam_statuses"][0], exam_source="门诊", page=3, page_size=20)]
    urls += [f"/api/v1/studies/{e}" for e in rng.sample(params["exam_ids"], 5)]
    urls += ["/api/v1/studies/filters/options"]
    a, b = Client(legacy.base), Client(product.base, product.token)
    same, diffs = 0, []
    try:
        for u in urls:
            sa, _, ba = a.get(u)
            sb, _, bb = b.get(u)
            ja = json.loads(ba) if sa == 200 else {"status": sa}
            jb = json.loads(bb) if sb == 200 else {"status": sb}
            if ja == jb:
                same += 1
            else:
                keys = [k for k in set(ja) | set(jb) if ja.get(k) != jb.get(k)]
                diffs.append({"url": urllib.parse.unquote(u), "differs_in": sorted(keys)})
    finally:
        a.close()
        b.close()
    return {"urls": len(urls), "identical": same, "diffs": diffs[:10]}
