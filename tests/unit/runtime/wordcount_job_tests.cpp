// End to end: the word count of language.md section 8, hand-written as generated code would
// be: a text source, split_words(lower(line)), an aggregate by word, a stdout sink.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "flow/abi.h"
#include "test_support.h"

namespace {

std::string g_words_path;

int32_t words_path(flow_ctx*, flow_str* out) {
  out->ptr = g_words_path.data();
  out->len = static_cast<int64_t>(g_words_path.size());
  return 0;
}

struct WordRow {
  flow_str word;
  int64_t n;
};

int32_t consume_lines(flow_ctx* ctx, const flow_batch* batch) {
  flow_agg_table* table = flow_ctx_agg(ctx, 0);
  flow_key_buf* key = flow_ctx_key_buf(ctx);
  for (int64_t r = 0; r < batch->num_rows; ++r) {
    const flow_cell& line = batch->cells[r * batch->num_fields];
    flow_str lowered;
    flow_str_lower(ctx, line.ptr, line.len, &lowered);
    flow_list words;
    flow_split_words(ctx, lowered.ptr, lowered.len, &words);
    for (int64_t i = 0; i < words.len; ++i) {
      const flow_str& w = static_cast<const flow_str*>(words.data)[i];
      flow_key_reset(key);
      flow_key_str(key, w.ptr, w.len);
      int32_t is_new;
      auto* row = reinterpret_cast<WordRow*>(flow_agg_upsert(table, key, &is_new));
      if (is_new) flow_agg_copy_str(table, w.ptr, w.len, &row->word);
      row->n += 1;
    }
  }
  return 0;
}

int32_t emit_word(flow_ctx* ctx, const void* row) {
  auto* w = static_cast<const WordRow*>(row);
  flow_sink* out = flow_ctx_sink(ctx, 0);
  flow_out_str(out, w->word.ptr, w->word.len);
  flow_out_i64(out, w->n);
  return flow_out_end(out);
}

void wordcount_setup(flow_job_builder* b) {
  flow_job_program(b, "wordcount.flow");
  flow_job_source(b, "lines", FLOW_FORMAT_TEXT, FLOW_ON_ERROR_FAIL, words_path, consume_lines, nullptr);
  flow_job_source_field(b, "line", FLOW_T_STRING, 0, 1);
  flow_job_sink(b, FLOW_SINK_STDOUT, FLOW_FORMAT_CSV, nullptr);
  flow_job_sink_field(b, "word");
  flow_job_sink_field(b, "n");
  flow_job_aggregate(b, 0, sizeof(WordRow), emit_word, nullptr);
}

}  // namespace

TEST_CASE("word count: text source, split_words, aggregate by word, stdout sink") {
  flow_test::TempDir dir;
  g_words_path = dir.write("words.txt", "The cat and the hat.\r\n\nA CAT, a hat; the end");
  std::string out_path = dir.file("stdout.txt");
  fflush(stdout);
  int saved = dup(1);
  int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 1);
  char arg0[] = "wordcount";
  char* argv[] = {arg0, nullptr};
  int code = flow_runtime_main(1, argv, wordcount_setup);
  fflush(stdout);
  dup2(saved, 1);
  close(fd);
  close(saved);
  CHECK(code == 0);
  CHECK(flow_test::read_file(out_path) == "word,n\na,2\nand,1\ncat,2\nend,1\nhat,2\nthe,3\n");
}
