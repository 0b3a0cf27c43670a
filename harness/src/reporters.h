#pragma once
// Human-readable renderings of a results document (results_document()).
#include <nlohmann/json.hpp>
#include <string>

namespace attrib {

/// Markdown and CSV renderings of the leaderboards (every row records the choices behind it).
std::string leaderboard_markdown(const nlohmann::json& document);
std::string leaderboard_csv(const nlohmann::json& document);

}  // namespace attrib
