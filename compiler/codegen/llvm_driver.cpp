// The LLVM side of codegen: build and verify the module, optimise it with the new pass
// manager, then either run it in the ORC LLJIT or write an object file and link it with
// libflowrt into an executable. LLVM is built without exceptions, so CodegenError never
// crosses LLVM frames: it is caught here, around module building only.
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <cstdio>

#include <llvm/ExecutionEngine/JITEventListener.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h>
#include <llvm/ExecutionEngine/SectionMemoryManager.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Program.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <cstdlib>
#include <sstream>

#include "codegen.h"
#include "flow/abi.h"
#include "ir_builder.h"

namespace flow::codegen {

namespace {

void initialise_llvm() {
  static bool done = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    return true;
  }();
  (void)done;
}

std::unique_ptr<llvm::TargetMachine> host_target_machine(std::string& error) {
  std::string triple = llvm::sys::getDefaultTargetTriple();
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) return nullptr;
  // The generic CPU keeps built executables portable across x86-64 machines.
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, "generic", "", llvm::TargetOptions{}, llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Default));
}

void optimise(llvm::Module& module, llvm::TargetMachine* machine, int level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(machine);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel opt = level <= 0 ? llvm::OptimizationLevel::O0
                                : level == 1 ? llvm::OptimizationLevel::O1
                                : level == 2 ? llvm::OptimizationLevel::O2
                                             : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm =
      level <= 0 ? pb.buildO0DefaultPipeline(opt) : pb.buildPerModuleDefaultPipeline(opt);
  mpm.run(module, mam);
}

struct BuiltModule {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
};

// Builds, verifies and optimises the job's module for `layout` (the target's data layout).
bool build_module(const plan::PhysicalPlan& plan, const SourceFile& file, const Options& options,
                  llvm::TargetMachine* machine, BuiltModule& out, std::string& error) {
  out.context = std::make_unique<llvm::LLVMContext>();
  out.module = std::make_unique<llvm::Module>("flow_job", *out.context);
  out.module->setTargetTriple(machine->getTargetTriple().str());
  out.module->setDataLayout(machine->createDataLayout());
  try {
    IrBuilder builder(*out.context, *out.module, plan, file);
    builder.build();
  } catch (const CodegenError& e) {
    error = e.what();
    return false;
  }
  optimise(*out.module, machine, options.optimization_level);
  return true;
}

}  // namespace

bool optimized_ir(const plan::PhysicalPlan& plan, const SourceFile& file, const Options& options,
                  std::string& ir, std::string& error) {
  initialise_llvm();
  auto machine = host_target_machine(error);
  if (!machine) return false;
  BuiltModule built;
  if (!build_module(plan, file, options, machine.get(), built, error)) return false;
  llvm::raw_string_ostream os(ir);
  built.module->print(os, nullptr);
  return true;
}

int run_jit(const plan::PhysicalPlan& plan, const SourceFile& file, const Options& options,
            const std::vector<std::string>& runtime_args, std::string& error) {
  initialise_llvm();
  auto detected = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!detected) {
    error = llvm::toString(detected.takeError());
    return -1;
  }
  detected->setCodeGenOptLevel(llvm::CodeGenOptLevel::Default);
  auto machine = detected->createTargetMachine();
  if (!machine) {
    error = llvm::toString(machine.takeError());
    return -1;
  }
  BuiltModule built;
  if (!build_module(plan, file, options, machine->get(), built, error)) return -1;

  std::string missing;
  llvm::orc::LLJITBuilder builder;
  builder.setJITTargetMachineBuilder(std::move(*detected));
  if (options.profile) {
    // LLVM's perf listener hooks the RuntimeDyld linking layer: it writes a jitdump file
    // with each function's name, address and code, which `perf inject --jit` merges.
    builder.setObjectLinkingLayerCreator([](llvm::orc::ExecutionSession& session, const llvm::Triple&) {
      auto layer = std::make_unique<llvm::orc::RTDyldObjectLinkingLayer>(
          session, [] { return std::make_unique<llvm::SectionMemoryManager>(); });
      if (llvm::JITEventListener* perf = llvm::JITEventListener::createPerfJITEventListener())
        layer->registerJITEventListener(*perf);
      else  // (an LLVM built without perf support)
        std::fprintf(stderr, "warning: --profile: this LLVM cannot describe code to perf; the job runs unprofiled\n");
      return llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>>(std::move(layer));
    });
  }
  auto jit = builder.create();
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return -1;
  }
  (*jit)->getExecutionSession().setErrorReporter([&missing](llvm::Error e) { missing += llvm::toString(std::move(e)); });
  // The runtime is linked whole into flowc and exported (-rdynamic), so every flow_* symbol
  // the module calls resolves from this process.
  auto generator = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess((*jit)->getDataLayout().getGlobalPrefix());
  if (!generator) {
    error = llvm::toString(generator.takeError());
    return -1;
  }
  (*jit)->getMainJITDylib().addGenerator(std::move(*generator));
  built.module->setDataLayout((*jit)->getDataLayout());
  if (auto e = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(built.module), std::move(built.context)))) {
    error = llvm::toString(std::move(e));
    return -1;
  }
  auto setup = (*jit)->lookup("flow_job_setup");
  if (!setup) {
    error = llvm::toString(setup.takeError()) + (missing.empty() ? "" : ": " + missing);
    return -1;
  }
  std::vector<std::string> args = runtime_args;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return flow_runtime_main(static_cast<int>(args.size()), argv.data(), setup->toPtr<flow_job_setup_fn>());
}

bool build_executable(const plan::PhysicalPlan& plan, const SourceFile& file, const Options& options,
                      const std::string& output, std::string& error) {
  initialise_llvm();
  auto machine = host_target_machine(error);
  if (!machine) return false;
  BuiltModule built;
  if (!build_module(plan, file, options, machine.get(), built, error)) return false;

  llvm::SmallString<128> object_path;
  int fd = -1;
  if (auto ec = llvm::sys::fs::createTemporaryFile("flowc-job", "o", fd, object_path)) {
    error = "cannot create a temporary object file: " + ec.message();
    return false;
  }
  {
    llvm::raw_fd_ostream object(fd, /*shouldClose=*/true);
    llvm::legacy::PassManager emit;
    if (machine->addPassesToEmitFile(emit, object, nullptr, llvm::CodeGenFileType::ObjectFile)) {
      error = "the target cannot write object files";
      return false;
    }
    emit.run(*built.module);
    object.flush();
    if (object.has_error()) {
      error = "cannot write the object file " + object_path.str().str();
      object.clear_error();
      return false;
    }
  }

  // c++ -o OUTPUT OBJECT libflowrt_main.a libflowrt.a ... (paths fixed when flowc was built)
  std::vector<std::string> command{FLOW_AOT_CXX, "-o", output, object_path.str().str()};
  std::istringstream libraries(FLOW_AOT_LIBS " " FLOW_AOT_FLAGS);
  for (std::string word; libraries >> word;) command.push_back(word);
  if (auto found = llvm::sys::findProgramByName(command[0])) command[0] = *found;
  std::vector<llvm::StringRef> argv(command.begin(), command.end());
  std::string message;
  int status = llvm::sys::ExecuteAndWait(command[0], argv, std::nullopt, {}, 0, 0, &message);
  llvm::sys::fs::remove(object_path);
  if (status != 0) {
    error = "linking `" + output + "` failed" + (message.empty() ? "" : ": " + message);
    return false;
  }
  return true;
}

}  // namespace flow::codegen
