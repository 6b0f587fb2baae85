"""The web kitchen's API with FastAPI's test client: every route, and every kind of bad request."""

import json
import math
import shutil
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")  # FastAPI's test client runs on it
from fastapi.testclient import TestClient  # noqa: E402

from omakase import anatomy, checkpoint, inference  # noqa: E402
from omakase.tour.story import Catalogue  # noqa: E402  (a test may read the tour: the page must match it)
from omakase.web import tracing  # noqa: E402
from omakase.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client(runs_dir):
    with TestClient(create_app(runs_dir)) as c:
        yield c


@pytest.fixture
def fresh(tmp_path, runs_dir):
    """A server of its own (for training), on a copy of the runs folder."""
    runs = tmp_path / "runs"
    shutil.copytree(runs_dir, runs)
    with TestClient(create_app(runs)) as c:
        yield c, runs


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def bad(response, status=422):
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert message and "\n" not in message
    return message


# --- reading --------------------------------------------------------------------------------------

def test_page_and_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text
    for name in ("web.js", "draw.js", "more.js", "web.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert "http://" not in page.text.replace("http://www.w3.org", "")  # nothing fetched from elsewhere


def test_catalogue_holds_the_kitchens_words_and_the_pages_own(client):
    en, zh = ok(client.get("/api/catalogue/en")), ok(client.get("/api/catalogue/zh"))
    assert en["bell.label"] != zh["bell.label"]  # the model's parts in each language (omakase.anatomy)
    assert en["dial.wte"] == anatomy.Words("en").entries["dial.wte"]
    assert en["web.title"] and zh["web.title"] and en["web.title"] != zh["web.title"]
    assert set(en) == set(zh)
    bad(client.get("/api/catalogue/fr"))


def test_the_sections_carry_the_tours_chapter_headings_and_call_ming_as_the_tour_does(client):
    """The page is read beside the tour: same numbers and headings, and the same name for Ming in Chinese."""
    for lang in ("en", "zh"):
        page, tour = ok(client.get(f"/api/catalogue/{lang}")), Catalogue(lang)
        for n in range(1, 9):
            assert page[f"ch{n}.title"] == tour(f"ch{n}.title")
        assert tour("ming") in page["web.title"]
    html = client.get("/").text
    assert html.count('class="callout"') == html.count('role="tabpanel"') == 9  # every section, talking too,
    # opens with what to try and what to notice


def test_checkpoints_are_listed_by_id_and_the_newest_is_the_default(client):
    got = ok(client.get("/api/checkpoints"))
    assert [c["id"] for c in got["checkpoints"]] == ["ming-001", "ming-002"]
    assert got["default"] == "ming-002"
    assert got["checkpoints"][0]["step"] == 20


def test_model_describes_the_checkpoint_it_was_asked_for(client):
    got = ok(client.get("/api/model", params={"checkpoint": "ming-001"}))
    assert (got["step"], got["params"], got["n_layer"], got["block_size"]) == (20, 4192, 1, 16)
    assert len(got["curve"]["loss"]) == 20 and got["val"][0]["step"] == 20


def test_cook_is_repeatable_by_seed_and_marks_each_name(client):
    q = {"checkpoint": "ming-002", "n": 12, "temperature": 0.8, "seed": 3}
    first, again = ok(client.get("/api/cook", params=q)), ok(client.get("/api/cook", params=q))
    assert first == again and len(first["dishes"]) == 12
    assert {d["kind"] for d in first["dishes"]} <= {"from the records", "invented"}
    other = ok(client.get("/api/cook", params={**q, "temperature": 1.5}))
    assert other["dishes"] != first["dishes"]
    greedy = ok(client.get("/api/cook", params={**q, "temperature": 0, "n": 3}))
    assert len({d["name"] for d in greedy["dishes"]}) == 1  # temperature 0: the same menu every time


def test_votes_are_whole_votes_at_the_temperature_asked(client, runs_dir):
    model = inference.load_with_data(runs_dir / "ming-001.json")
    expected = inference.score(model, ["emma"])[0]
    one = ok(client.get("/api/votes", params={"checkpoint": "ming-001", "name": "emma", "temperature": 1}))
    assert [c["truth"] for c in one["courses"]] == ["e", "m", "m", "a", "<bell>"]
    assert [c["truth_share"] for c in one["courses"]] == pytest.approx([c.p for c in expected.courses])
    cool = ok(client.get("/api/votes", params={"checkpoint": "ming-001", "name": "emma", "temperature": 0.3}))
    for hot, cold in zip(one["courses"], cool["courses"]):
        assert sum(cold["shares"]) == pytest.approx(1) and len(cold["shares"]) == len(cool["labels"]) == 27
        favourite = max(range(27), key=hot["shares"].__getitem__)
        assert cold["shares"][favourite] > hot["shares"][favourite]  # a cooler vote piles onto the favourite
        assert cold["truth_share"] == cold["shares"][cool["labels"].index(cold["truth"])]  # at 0.3, not at 1


def test_the_scorecard_is_the_services_score(client, runs_dir):
    got = ok(client.get("/api/score", params={"checkpoint": "ming-001", "name": "emma"}))
    expected = inference.score(inference.load_with_data(runs_dir / "ming-001.json"), ["emma"])[0]
    assert [c["penalty"] for c in got["courses"]] == pytest.approx([c.penalty for c in expected.courses])
    assert got["mean_loss"] == pytest.approx(expected.mean_loss) and got["blind"] == pytest.approx(math.log(27))


def test_records_say_where_a_name_is_and_how_its_order_scores(client, runs_dir):
    model = inference.load_with_data(runs_dir / "ming-001.json")
    parts = inference.split_of(model)
    later = next(d for d in parts.train[20:] if d not in parts.train[:20])  # ming-001 cooked 20 dishes, one a step
    for name, where, dish in ((parts.train[0], "studied", 1), (later, "studied", None),
                              (parts.val[0], "held_out", None), ("zzzq", "absent", None)):
        got = ok(client.get("/api/records", params={"checkpoint": "ming-001", "name": name}))
        assert (got["where"], got["dish"], got["dishes"]) == (where, dish, 20) and got["backwards"] == name[::-1]
        backwards = inference.score(model, [name[::-1]])[0].mean_loss
        assert got["backwards_loss"] == pytest.approx(backwards)


def test_courses_show_each_courses_number_card_and_tag(client, runs_dir):
    got = ok(client.get("/api/courses", params={"checkpoint": "ming-001", "name": "emma"}))
    params = inference.load_with_data(runs_dir / "ming-001.json").checkpoint.params
    assert [c["number"] for c in got["courses"]] == [26, 4, 12, 12, 0, 26]  # the bell is 26, a is 0
    assert got["courses"][2]["card"] == params["wte"][12] and got["courses"][2]["tag"] == params["wpe"][2]
    assert got["courses"][-1]["tag"] is None  # the closing bell is predicted, never served at a place


def test_an_empty_name_gets_its_own_message(client):
    for route in ("/api/votes", "/api/assembly", "/api/score", "/api/records", "/api/courses", "/api/trace/course"):
        assert "empty" in bad(client.get(route, params={"checkpoint": "ming-001", "name": ""}))


def test_the_header_states_the_held_out_set_the_tour_and_eval_measure(client, runs_dir):
    from omakase.tour import ming

    got = ok(client.get("/api/model", params={"checkpoint": "ming-001"}))["held_out"]
    model = inference.load_with_data(runs_dir / "ming-001.json")
    evaluated = inference.evaluate(model, "val")
    assert (got["loss"], got["documents"]) == (evaluated.loss, evaluated.documents) == (got["loss"], 3203)
    toured = ming.prepare(None, str(runs_dir / "ming-001.json"), "numpy").run().validate()  # every held-out menu
    assert toured["n_docs"] == got["documents"] and toured["loss"] == pytest.approx(got["loss"], abs=1e-12)


def test_the_page_cooks_the_names_the_tour_cooks(client, runs_dir):
    """The tour cooks each temperature's names from the run's own stream (chapter 7), as the page does by default."""
    from omakase.sample import cook
    from omakase.tour import ming

    run = ming.prepare(None, str(runs_dir / "ming-002.json"), "numpy").run()
    page = ok(client.get("/api/cook", params={"checkpoint": "ming-002", "temperature": 0.7}))
    assert [d["name"] for d in page["dishes"]] == cook(run.engine, run.tokenizer, run.rng(), 20, 0.7)


def test_the_page_cooks_the_names_omakase_cook_cooks(client, runs_dir, capsys):
    """Without a seed, the run's own random stream (as `omakase cook` and the tour); with one, that seed."""
    from omakase.cli import main

    for seed in (None, 5):
        args = ["cook", "--checkpoint", str(runs_dir / "ming-002.json"), "--json"] + (["--seed", "5"] if seed else [])
        assert main(args) == 0
        cooked = json.loads(capsys.readouterr().out)
        page = ok(client.get("/api/cook", params={"checkpoint": "ming-002", **({"seed": seed} if seed else {})}))
        assert [d["name"] for d in page["dishes"]] == [d["name"] for d in cooked]


def test_assembly_line_traces_every_course(client):
    got = ok(client.get("/api/assembly", params={"checkpoint": "ming-001", "name": "emma"}))
    assert got["courses"] == ["<bell>", "e", "m", "m", "a"]
    for pos, step in enumerate(got["steps"]):
        layer = step["layers"][0]
        assert len(layer["attention"]) == 4  # one row per sous chef
        for head in layer["attention"]:
            assert len(head) == pos + 1 and sum(head) == pytest.approx(1)  # shares of the courses so far
        assert len(layer["passed"]) == 64 and layer["passed"] == [h > 0 for h in layer["hidden"]]
        assert sum(v["p"] for v in step["vote"]) <= 1 + 1e-9


def test_dials_list_the_matrices_by_station_with_rows_in_kitchen_words(client):
    got = ok(client.get("/api/dials", params={"checkpoint": "ming-001"}))
    assert got["params"] == sum(m["rows"] * m["cols"] for m in got["matrices"]) == 4192
    assert {m["station"] for m in got["matrices"]} == {"card", "tag", "roundtable", "back_kitchen", "vote"}
    cards = next(m for m in got["matrices"] if m["matrix"] == "wte")
    letters = [p["course"] for p in cards["row_parts"]]
    assert letters[:3] == ["a", "b", "c"] and letters[26] == "<bell>"  # rows by letter, the bell last


def test_turning_a_dial_moves_the_score_and_leaves_the_model_alone(client):
    body = {"checkpoint": "ming-001", "matrix": "wte", "row": 4, "col": 0, "delta": 2.0, "name": "emma"}
    turned = ok(client.post("/api/turn", json=body))
    assert anatomy.name_dial(anatomy.Words("en"), turned["dial"]) == "e's flavor card, number 1"
    assert turned["turned"] == pytest.approx(turned["value"] + 2.0)
    assert turned["after"]["mean_loss"] != turned["before"]["mean_loss"]
    reset = ok(client.post("/api/turn", json={**body, "delta": 0}))
    assert reset["after"] == reset["before"] == turned["before"]  # the loaded model was never changed


def test_tracing_the_worked_example_replays_backward_exactly():
    got = tracing.worked()
    influence = {got["forward"][i]["name"]: g for i, g in enumerate(got["influence"])}
    assert influence["salt"] == got["engine"]["salt"] == 4.0  # sugar + 1: two paths add up
    assert influence["sugar"] == got["engine"]["sugar"] == 2.0
    assert [s["op"] for s in got["forward"]] == ["leaf", "leaf", "mul", "add"]


def test_tracing_a_course_finds_dials_whose_nudge_moves_the_penalty_as_predicted(client):
    got = ok(client.get("/api/trace/course", params={"checkpoint": "ming-002", "name": "emma"}))
    ops = [node["op"] for node in got["path"]]
    assert ops[:2] == ["mul", "log"] and ops[-1] == "leaf"  # penalty = log(p) x -1, down to one dial
    assert got["path"][0]["influence"] == 1.0 and got["path"][-1]["influence"] == got["dials"][0]["influence"]
    where = [node["where"] for node in got["path"]]
    assert where[0]["station"] == "penalty"
    assert where[-1] == {"station": got["dials"][0]["dial"]["station"], "what": "dial"}
    assert any(w["what"] not in ("penalty", "inside", "dial") for w in where)  # a station value the kitchen recorded
    last = ok(client.get("/api/trace/course", params={"checkpoint": "ming-002", "name": "emma", "path": 4}))
    assert last["path_to"] == 4 and last["path"][-1]["influence"] == last["dials"][4]["influence"]
    assert last["dials"] == got["dials"]  # the same trace, another road through it
    assert set(got["techniques"]) == {"add", "mul", "pow", "log", "exp", "relu"}
    top = got["dials"][0]
    assert math.copysign(1, top["measured"]) == math.copysign(1, top["predicted"])
    assert top["measured"] == pytest.approx(top["predicted"], rel=0.05)


def test_compare_puts_two_runs_side_by_side(client):
    got = ok(client.get("/api/compare", params={"a": "ming-001", "b": "ming-002", "temperature": 0.5, "seed": 1}))
    a, b = got["runs"]
    assert (a["step"], b["step"]) == (20, 40) and len(a["names"]) == len(b["names"]) == 8


# --- bad requests -----------------------------------------------------------------------------------

BAD_READS = [
    ("/api/cook", {"temperature": "nan"}),
    ("/api/cook", {"temperature": "inf"}),
    ("/api/cook", {"temperature": -0.1}),
    ("/api/cook", {"temperature": 2.5}),
    ("/api/cook", {"n": 0}),
    ("/api/cook", {"n": 51}),
    ("/api/cook", {"seed": -1}),
    ("/api/cook", {"checkpoint": "../../etc/passwd"}),
    ("/api/cook", {"checkpoint": "/tmp/x.json"}),
    ("/api/cook", {"checkpoint": "ming-999"}),
    ("/api/votes", {}),
    ("/api/votes", {"name": ""}),
    ("/api/votes", {"name": "emma" * 5}),  # longer than the block
    ("/api/votes", {"name": "Emma"}),  # not in the vocabulary
    ("/api/votes", {"name": "x" * 100}),
    ("/api/assembly", {"name": "e m"}),
    ("/api/assembly", {"name": "abcdefghijklmnop"}),  # 16 letters + the bells do not fit a block of 16
    ("/api/trace/course", {"name": "1"}),
    ("/api/trace/course", {"name": "emma", "path": 5}),
    ("/api/compare", {"a": "ming-001"}),
    ("/api/training", {"since": -1}),
]


@pytest.mark.parametrize("route,params", BAD_READS)
def test_bad_reads_get_one_line_422(client, route, params):
    bad(client.get(route, params=params))


BAD_TURNS = [
    {"matrix": "nope"}, {"row": 99}, {"col": -1}, {"delta": float("nan")}, {"delta": 11}, {"name": "EMMA"},
    {"checkpoint": "../x"}, {"extra": 1},
]


@pytest.mark.parametrize("change", BAD_TURNS)
def test_bad_turns_get_one_line_422(client, change):
    body = {"checkpoint": "ming-001", "matrix": "wte", "row": 0, "col": 0, "delta": 0.1, "name": "emma", **change}
    if isinstance(change.get("delta"), float) and math.isnan(change["delta"]):  # JSON has no NaN; send the text Python's json would accept
        response = client.post("/api/turn", content=b'{"matrix": "wte", "row": 0, "col": 0, "delta": NaN, '
                               b'"name": "emma"}', headers={"content-type": "application/json"})
        bad(response)
        return
    bad(client.post("/api/turn", json=body))


@pytest.mark.parametrize("body", [{"steps": 0}, {"steps": 10**6}, {"lr": 0}, {"lr": 5}, {"n_embd": 1000},
                                  {"n_embd": 10, "n_head": 4}, {"n_layer": 0}, {"batch_size": 100}, {"path": "/x"}])
def test_bad_training_dials_get_one_line_422(fresh, body):
    c, _ = fresh
    bad(c.post("/api/training", json=body))
    assert c.get("/api/training").json()["state"] == "idle"


def test_unknown_routes_and_methods_get_one_line_too(client):
    assert bad(client.get("/api/nothing"), 404) == "Not Found"
    bad(client.delete("/api/cook"), 405)
    bad(client.post("/api/turn", content=b"{not json", headers={"content-type": "application/json"}))


def test_a_thousand_bad_requests_in_a_row_leave_the_server_up(client):
    for i in range(1000):
        route, params = BAD_READS[i % len(BAD_READS)]
        assert client.get(route, params=params).status_code == 422
    assert ok(client.get("/api/cook", params={"checkpoint": "ming-001", "n": 2}))["dishes"]


# --- training -------------------------------------------------------------------------------------

def wait_for(c, states, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = c.get("/api/training").json()
        if status["state"] in states:
            return status
        time.sleep(0.02)
    raise AssertionError(f"training never reached {states}: {status}")


def test_training_runs_to_a_checkpoint_the_page_can_open(fresh):
    c, runs = fresh
    started = ok(c.post("/api/training", json={"steps": 200, "n_embd": 8, "n_head": 2}))
    assert started["state"] == "running" and started["steps"] == 200
    done = wait_for(c, {"done"})
    assert done["step"] == 200 and len(done["loss"]) == len(done["running"]) == 200
    assert [s["step"] for s in done["snapshots"]][:2] == [0, 20] and done["snapshots"][-1]["step"] == 200
    assert all(len(s["names"]) == 5 and s["held_out"] > 0 for s in done["snapshots"])
    later = ok(c.get("/api/training", params={"since": 150}))
    assert later["loss"] == done["loss"][150:] and later["running"] == pytest.approx(done["running"][150:])
    ckpt = done["checkpoint"]
    assert (runs / f"{ckpt}.json").is_file() and ckpt in [x["id"] for x in ok(c.get("/api/checkpoints"))["checkpoints"]]
    described = ok(c.get("/api/model", params={"checkpoint": ckpt}))
    assert described["step"] == 200
    # at the end, every held-out menu: the loss the header (and so the tour and `omakase eval`) gives
    assert done["held_out"]["n_docs"] == described["held_out"]["documents"] == 3203
    assert done["held_out"]["loss"] == pytest.approx(described["held_out"]["loss"])
    recorded = {v["step"]: v for v in checkpoint.load(runs / f"{ckpt}.json").run["val"]}  # as the tour reads it
    assert recorded[200]["n_docs"] == 3203 and recorded[200]["loss"] == done["held_out"]["loss"]


def test_one_training_at_a_time_pause_resume_stop(fresh):
    c, runs = fresh
    ok(c.post("/api/training", json={"steps": 20000, "n_embd": 32, "batch_size": 8}))
    assert "already running" in bad(c.post("/api/training", json={}), 409)
    paused = ok(c.post("/api/training/pause"))
    assert paused["state"] == "paused"
    time.sleep(0.2)  # the step in flight finishes; then nothing moves
    held = c.get("/api/training").json()["step"]
    time.sleep(0.3)
    assert c.get("/api/training").json()["step"] == held
    bad(c.post("/api/training/pause"), 409)
    assert ok(c.post("/api/training/resume"))["state"] == "running"
    stopped = ok(c.post("/api/training/stop"))
    assert stopped["state"] == "stopped" and 0 < stopped["step"] < 20000
    assert ok(c.get("/api/model", params={"checkpoint": stopped["checkpoint"]}))["step"] == stopped["step"]
    bad(c.post("/api/training/stop"), 409)
    bad(c.post("/api/training/dance"))


def test_the_event_stream_sends_the_new_steps_until_the_run_ends(fresh):
    c, _ = fresh
    ok(c.post("/api/training", json={"steps": 300, "n_embd": 8, "n_head": 2}))
    events = []
    with c.stream("GET", "/api/training/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(__import__("json").loads(line[6:]))
    assert events[-1]["state"] == "done"
    losses = [x for e in events for x in e["loss"]]
    assert len(losses) == 300 and losses == c.get("/api/training").json()["loss"]


def test_shutting_down_saves_a_running_training(tmp_path):
    runs = tmp_path / "runs"
    with TestClient(create_app(runs)) as c:
        ok(c.post("/api/training", json={"steps": 20000, "n_embd": 32, "batch_size": 8}))
        time.sleep(0.3)
    saved = list(runs.glob("web-*.json"))
    assert len(saved) == 1
    model = inference.load_with_data(saved[0])
    assert 0 < model.checkpoint.run["step"] < 20000
