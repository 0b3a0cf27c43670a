// synthetic:facts — prompts for a causal language model whose continuation is fixed by one slot.
// Each prompt fills a template's slots (a name, an adjective, a place, the animal, and in some
// templates a second, distractor animal) and ends "... the pet says"; the answer is the animal's
// sound. The template text is structural (fed to the model, never a feature), so the features are
// the slots, and the ground-truth rationale of every example is the animal slot: the distractor
// slots, the second animal included, never change the answer. Training prompts have some slots
// <unk>, so that the model learns an unknown slot and removal by <unk> stays in distribution.
#include "attrib/error.h"
#include "data/synthetic/generators.h"
#include "data/synthetic/rng.h"
#include "data/vocab.h"

namespace attrib::synthetic {

using nlohmann::json;

const char* const kFactsSchema = R"JSON({
  "n_train": {"type": "integer", "default": 4000, "minimum": 10, "maximum": 1000000,
              "description": "training prompts"},
  "n_val": {"type": "integer", "default": 400, "minimum": 10, "maximum": 1000000},
  "n_test": {"type": "integer", "default": 400, "minimum": 1, "maximum": 1000000},
  "n_animals": {"type": "integer", "default": 8, "minimum": 2, "maximum": 12,
                "description": "animals (and so answers, their sounds) in use"},
  "distractor": {"type": "boolean", "default": true,
                 "description": "include the templates with a second animal that does not decide the answer"},
  "unk_rate": {"type": "number", "default": 0.1, "minimum": 0, "maximum": 1,
               "description": "training prompts only: each slot is <unk> with this probability (the answer unchanged), so the model learns what an unknown slot means and <unk> is an in-distribution baseline"},
  "seed": {"type": "integer", "default": 1, "minimum": 0,
           "description": "generator seed (independent of the run seed, so the data stay fixed)"}
})JSON";

namespace {

struct Animal {
  const char* name;
  const char* sound;
};
constexpr Animal kAnimals[] = {{"dog", "woof"},   {"cat", "meow"},   {"cow", "moo"},
                               {"duck", "quack"}, {"sheep", "baa"},  {"owl", "hoot"},
                               {"lion", "roar"},  {"snake", "hiss"}, {"horse", "neigh"},
                               {"frog", "croak"}, {"bee", "buzz"},   {"mouse", "squeak"}};
const std::vector<std::string> kNames = {"anna", "ben",  "carl", "dora", "emil", "fay",
                                         "gus",  "hana", "ivan", "jade", "kai",  "lena",
                                         "max",  "nora", "omar", "pia"};
const std::vector<std::string> kAdjectives = {"big",    "small", "old",   "young", "happy",
                                              "sleepy", "brown", "white", "quiet", "shy"};
const std::vector<std::string> kPlaces = {"paris", "rome",  "oslo",  "lima",  "cairo",
                                          "delhi", "tokyo", "quito", "accra", "dakar"};

// Slots are written {name}; "{animal}" decides the answer, "{other}" is the distractor animal.
const char* const kTemplates[] = {
    "{name} saw a {adj} {animal} in {place} . the pet says",
    "in {place} {name} met a {adj} {animal} . the pet says",
    "a {adj} {animal} lives with {name} in {place} . the pet says",
    "{name} drew a {other} but owns a {adj} {animal} in {place} . the pet says",
    "{name} owns a {animal} and drew a {adj} {other} in {place} . the pet says",
};
constexpr int kPlainTemplates = 3;

}  // namespace

Dataset facts(const std::string& name, const std::string& /*argument*/, const json& p,
              json& /*report*/) {
  const int64_t n_animals = p["n_animals"];
  const int n_templates =
      p["distractor"].get<bool>() ? static_cast<int>(std::size(kTemplates)) : kPlainTemplates;
  Rng rng(p["seed"].get<uint64_t>() ^ 0x6661637473ULL);
  Dataset d;
  d.name = name;
  d.modality = Modality::kText;
  for (int64_t a = 0; a < n_animals; ++a) d.class_names.push_back(kAnimals[a].sound);
  auto pick = [&](const std::vector<std::string>& list) { return list[rng.below(list.size())]; };
  const double unk_rate = p["unk_rate"];
  auto make = [&](const std::string& split, int64_t n, std::vector<TextExample>& out) {
    const bool train = split == "train";
    for (int64_t k = 0; k < n; ++k) {
      TextExample e;
      e.id = name + "-" + split + "-" + std::to_string(k);
      e.label = rng.below(n_animals);
      int64_t other = rng.below(n_animals - 1);
      if (other >= e.label) ++other;  // a different animal
      const int t = static_cast<int>(rng.below(n_templates));
      for (const std::string& w : whitespace_tokens(kTemplates[t])) {
        const bool slot = w.size() > 2 && w.front() == '{';
        std::string token = w;
        if (w == "{name}") token = pick(kNames);
        if (w == "{adj}") token = pick(kAdjectives);
        if (w == "{place}") token = pick(kPlaces);
        if (w == "{animal}") token = kAnimals[e.label].name;
        if (w == "{other}") token = kAnimals[other].name;
        if (slot && train && rng.uniform() < unk_rate) token = "<unk>";
        e.tokens.push_back(token);
        e.rationale.push_back(w == "{animal}" ? 1.0f : 0.0f);
        e.special.push_back(slot ? 0 : 1);
      }
      out.push_back(std::move(e));
    }
  };
  make("train", p["n_train"], d.train);
  make("val", p["n_val"], d.val);
  make("test", p["n_test"], d.test);
  return d;
}

}  // namespace attrib::synthetic
