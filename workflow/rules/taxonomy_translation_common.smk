"""Functions of the machine-translation rules (taxonomy_translation.smk): the grids, the corpus check and
input lists. Included at the top of taxonomy_translation.smk (snakemake --lint: no functions in rule files).
"""


def translation_grids(translation):
    """One grid per learning-rate schedule (Fig. 19's columns; the first is Fig. 18's), the cells of
    core.grids.experiment_grid with the schedule as a setting; an invalid grid fails naming the key."""
    data, heads = translation["data"], translation["model"]["heads"]
    if data["name"] == "synthetic" and data["min_len"] > data["max_len"]:
        raise WorkflowError(
            f"taxonomy.translation.data.min_len: {data['min_len']} exceeds max_len {data['max_len']}"
        )
    for role in ("load", "temperature"):
        if translation[role]["axis"] == "width":
            odd = [w for w in translation[role]["values"] if int(w) % heads]
            if odd:
                raise WorkflowError(
                    f"taxonomy.translation.{role}.values: widths {odd} are not multiples of the {heads} heads"
                    " (taxonomy.translation.model.heads)"
                )
    defaults = {
        "width": translation["model"]["width"],
        "subset": 1.0,
        "label_noise": 0.0,
        **{k: translation["training"][k] for k in ("batch_size", "lr", "weight_decay", "schedule")},
    }
    spec = {role: translation[role] for role in ("load", "temperature")}
    grids = {}
    for schedule in translation["schedules"]:
        try:
            grids[schedule] = experiment_grid(
                spec | {"settings": {"schedule": schedule}}, defaults, data["n_train"]
            )
        except ValueError as error:
            raise WorkflowError(f"taxonomy.translation: {error}") from None
    return grids


def translation_corpus_source(wildcards):
    """The user's parallel corpus as the corpus rule's input, read and checked when the DAG is built (only
    when translation jobs are needed): a missing or malformed file fails naming the key and the line."""
    data = TRANSLATION["data"]
    if data["name"] != "parallel":
        return []
    from thermoscape.data.translation import read_parallel_corpus, split_pairs

    if not data["path"]:
        raise WorkflowError(
            "taxonomy.translation.data.path: a parallel corpus needs the path of its TSV file "
            "(one 'source<TAB>target' pair a line, user-supplied; nothing is downloaded)"
        )
    try:
        pairs = read_parallel_corpus(data["path"], "taxonomy.translation.data.path")
        split_pairs(pairs, data["n_train"], data["n_test"], data["seed"], "taxonomy.translation.data")
    except ValueError as error:
        raise WorkflowError(str(error)) from None
    return [data["path"]]


def translation_cell_inputs(wildcards):
    """Every per-cell table of Fig. 18's grid and the training histories of every schedule's grid."""
    cells = TRANSLATION_GRIDS[TRANSLATION["schedules"][0]]["cell"]
    return {
        **{
            name: [f"{TT}/cells/{cell}/{name}.parquet" for cell in cells]
            for name in ("training", "replicas", "pairs", "curve")
        },
        "histories": [
            f"{TT}/cells/{cell}/training.parquet"
            for grid in TRANSLATION_GRIDS.values()
            for cell in grid["cell"]
        ],
    }
