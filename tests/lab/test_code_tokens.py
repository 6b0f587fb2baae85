from omakase.lab.code_tokens import code_tokens, split_identifier


def test_camel_and_snake_case_are_split_and_whole_names_kept():
    assert split_identifier("sumPrices") == ["sum", "prices"]
    assert split_identifier("count_in_stock") == ["count", "in", "stock"]
    assert split_identifier("parseHTTPResponse") == ["parse", "http", "response"]
    tokens = code_tokens("function sumPrices(items) { return count_in_stock; }")
    assert {"sumprices", "sum", "prices", "items", "count_in_stock", "count", "stock"} <= set(tokens)
    assert "in" not in tokens  # a stopword


def test_query_words_meet_code_words():
    assert set(code_tokens("sum prices")) <= set(code_tokens("const total = sumPrices(cart);"))
