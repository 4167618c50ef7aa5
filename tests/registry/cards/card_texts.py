"""Valid cards of every kind, shared by the tests that check them and those that hand them to huggingface_hub."""

FULL_MODEL_CARD = """---
language:
- en
- fr
- pt-BR
license: apache-2.0
library_name: transformers
pipeline_tag: text-generation
tags:
- llm
- chat
datasets:
- HuggingFaceH4/ultrachat_200k
- imdb
base_model: mistralai/Mistral-7B-v0.1
base_model_relation: finetune
metrics:
- accuracy
widget:
- text: Hello
model-index:
- name: tiny-chat
  results:
  - task:
      type: text-generation
      name: Text Generation
    dataset:
      name: AI2 Reasoning Challenge (25-Shot)
      type: ai2_arc
      config: ARC-Challenge
      split: test
      args:
        num_few_shot: 25
    metrics:
    - type: acc_norm
      value: 64.59
      name: normalized accuracy
    source:
      url: https://example.org/leaderboard
      name: Open LLM Leaderboard
---
# Tiny chat

A small chat model.
"""

TWO_MODELS_CARD = """---
model-index:
- name: base
  results:
  - task: {type: text-generation}
    dataset: {type: ai2_arc, name: ARC, config: ARC-Challenge, split: test, revision: 5503434}
    metrics:
    - {type: acc, value: 0.61, verified: false}
    - {type: acc_norm, value: "64.5 ± 1.2", name: Normalized accuracy, config: strict, args: {shots: 25}}
  - task: {type: fill-mask, name: Fill-Mask}
    dataset: {type: org/cloze, name: Cloze, args: {language: en}}
    metrics:
    - {type: accuracy, value: 90, verifyToken: abc.def}
    source: {url: "https://example.org/board"}
- name: chat
  results:
  - task: {type: text-generation}
    dataset: {type: gsm8k, name: GSM8K}
    metrics:
    - {type: exact_match, value: 0.42}
    source: {url: "https://example.org/board", name: Board}
---
"""

DATASET_CARD = """---
license: [cc-by-4.0, mit]
language: [en, fr]
pretty_name: Tiny Stories
task_categories: [text-generation, question-answering]
task_ids: [language-modeling]
size_categories: 10K<n<100K
tags: [synthetic]
configs:
- config_name: default
  default: true
  data_files:
  - split: train
    path: data/train-*.parquet
  - split: test
    path: [data/test-0.parquet, data/test-1.parquet]
- config_name: raw
  data_files: raw/*.jsonl
- config_name: extra
  data_dir: extra
dataset_info:
  features:
  - name: text
    dtype: string
  splits:
  - name: train
    num_examples: 1000
---
# Tiny Stories
"""

SPACE_CARD = """---
title: Chat demo
emoji: 💬
colorFrom: blue
colorTo: indigo
sdk: gradio
sdk_version: 4.44.0
app_file: app.py
short_description: Talk to a tiny model
license: mit
models: [org/tiny-chat]
datasets: [imdb]
tags: [demo]
---
"""

TUTORIAL_CARD = """---
title: Fine-tune a tiny model
authors: [Ada, Grace Hopper]
difficulty: beginner
reading_time: 15
license: cc-by-4.0
language: en
tags: [fine-tuning, lora]
models: [org/tiny-chat]
datasets: [imdb]
---
## Steps
"""
