# The chat API (Flask under gunicorn) and the built web app. No torch: the API never loads a model.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
WORKDIR /app
COPY requirements.txt pyproject.toml README.md ./
# the API image needs no model runtime (torch, transformers, OpenVINO, training); install everything else it imports
RUN grep -vE '^(torch|transformers|tokenizers|huggingface-hub|safetensors|gguf|peft|accelerate|trl|openvino|openvino-genai|openvino-tokenizers|optimum|nncf|matplotlib)==' requirements.txt > requirements-api.txt \
 && pip install --no-cache-dir -r requirements-api.txt
COPY backend/ backend/
COPY configs/ configs/
RUN pip install --no-cache-dir --no-deps -e .
COPY --from=frontend /src/frontend/dist frontend/dist
EXPOSE 5000
CMD ["llmchat", "serve", "--host", "0.0.0.0", "--port", "5000"]
